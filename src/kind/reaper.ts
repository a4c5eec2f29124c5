import { readdirSync } from 'node:fs';
import { docker, engineVersion } from '../targets/docker/engine.ts';
import { ownerAlive } from '../targets/local/proc.ts';
import type { Reaped } from '../targets/local/reaper.ts';
import { clustersDir, deleteCluster, readRecord } from './kind-cli.ts';
import { CLUSTER_PREFIX } from './guard.ts';
import { kindToolchain } from './toolchain.ts';

/** kind puts this label on every node container, with the cluster's name. */
const KIND_CLUSTER_LABEL = 'io.x-k8s.kind.cluster';

/** Names of the clusters with our prefix that have node containers on this engine. */
async function clustersOnEngine(): Promise<string[]> {
  const out = await docker(['ps', '-a', '--filter', `label=${KIND_CLUSTER_LABEL}`, '--format', `{{.Label "${KIND_CLUSTER_LABEL}"}}`]);
  return [...new Set(out.split('\n').map((s) => s.trim()).filter((n) => n.startsWith(CLUSTER_PREFIX)))];
}

/**
 * Deletes every cluster of ours whose runner is gone (a SIGKILLed run) or, with `includeKept`,
 * that was kept; and every record whose cluster is gone. Clusters with another prefix are
 * never looked at: they are not ours.
 */
export async function reapKind(opts: { includeKept?: boolean } = {}): Promise<Reaped[]> {
  const recorded = (() => {
    try {
      return readdirSync(clustersDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));
    } catch {
      return [];
    }
  })();
  const onEngine = engineVersion() ? await clustersOnEngine() : [];
  const tool = kindToolchain();
  const out: Reaped[] = [];
  for (const name of new Set([...recorded, ...onEngine])) {
    const rec = readRecord(name);
    if (rec && ownerAlive(rec.owner) && !rec.kept) continue;
    if (rec?.kept && !opts.includeKept) continue;
    const running = onEngine.includes(name);
    if (running && 'missing' in tool) {
      // No kind CLI left to ask: its node containers are all there is to a kind cluster.
      const ids = (await docker(['ps', '-aq', '--filter', `label=${KIND_CLUSTER_LABEL}=${name}`])).split('\n').filter(Boolean);
      if (ids.length) await docker(['rm', '--force', '--volumes', ...ids]);
    }
    // Its files and record; through the kind CLI first when it has nodes and the CLI is there.
    await deleteCluster(running && !('missing' in tool) ? tool : undefined, name);
    out.push({ stackId: name, label: 'kind cluster', processes: [], faults: [], dirs: [], docker: running ? [`kind cluster ${name}${rec ? '' : ' (no record)'}`] : [] });
  }
  return out;
}
