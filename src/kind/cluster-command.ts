import { progress } from '../util/progress.ts';
import { KindCluster } from './cluster.ts';
import { checkClusterName } from './guard.ts';

/**
 * `mlops-chaos cluster up [--keep] [--name N]`: a kind cluster from kind-config/ and the node
 * image this machine built, with nothing deployed in it yet. Without --keep it lives until
 * Ctrl-C (or SIGTERM), then is deleted; with --keep it stays, and `stack down` deletes it.
 */
export async function clusterUp(args: string[], usageError: (m: string) => Error): Promise<number> {
  let keep = false;
  let name: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--keep') keep = true;
    else if (a === '--name') {
      name = args[++i];
      if (!name || name.startsWith('--')) throw usageError('--name needs a cluster name (mlops-chaos-…)');
      const bad = checkClusterName(name);
      if (bad) throw usageError(`--name: ${bad}`);
    } else throw usageError(`unknown argument '${a}' to 'cluster up' (allowed: --keep, --name NAME)`);
  }
  const say = progress('cluster');
  const cluster = await KindCluster.create({ ...(name ? { name } : {}), keep, say });
  const nodes = await cluster.nodes();
  process.stdout.write(
    [
      `cluster ${cluster.name} ready (${cluster.tool.kubernetesVersion}, node image ${cluster.tool.nodeImage})`,
      `  nodes       ${nodes.join(', ')}`,
      `  kubeconfig  ${cluster.kubeconfigPath}   (context kind-${cluster.name})`,
      `  create ${(cluster.timings.createMs / 1000).toFixed(1)} s, then ready ${(cluster.timings.readyMs / 1000).toFixed(1)} s later`,
      keep ? "  kept: 'mlops-chaos stack down' deletes it" : '  Ctrl-C deletes it',
      '',
    ].join('\n'),
  );
  if (keep) return 0;
  // A pending promise alone does not keep Node running (it would exit 13): a timer does.
  const alive = setInterval(() => undefined, 1 << 30);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(alive);
  say(`deleting ${cluster.name}`);
  await cluster.delete();
  return 0;
}
