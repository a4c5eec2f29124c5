import type { KubeConfig } from '@kubernetes/client-node';

/**
 * The kind target acts on the clusters it created and on nothing else: a cluster name with our
 * prefix, the kube context kind gives it, and an API server on this machine's loopback.
 */
export const CLUSTER_PREFIX = 'mlops-chaos-';
const NAME = /^mlops-chaos-[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

export function checkClusterName(name: string): string | null {
  return NAME.test(name) ? null : `cluster name '${name}' is not one this suite creates: it must match ${NAME.source} (lowercase letters, digits and '-', at most 44 characters)`;
}

/** Throws unless `kc`'s current context is kind's context for `name` and its server is on 127.0.0.1. */
export function assertOwnCluster(kc: KubeConfig, name: string): void {
  const bad = checkClusterName(name);
  if (bad) throw new Error(`refusing to act on a cluster: ${bad}`);
  const context = kc.getCurrentContext();
  if (context !== `kind-${name}`) throw new Error(`refusing to act on kube context '${context}': the kind target acts only on 'kind-${name}', the cluster it created`);
  const server = kc.getCurrentCluster()?.server ?? '';
  let host = '';
  try {
    host = new URL(server).hostname;
  } catch {
    /* reported below */
  }
  if (host !== '127.0.0.1') throw new Error(`refusing to act on the API server at '${server}': the kind target's clusters answer on https://127.0.0.1 only`);
}
