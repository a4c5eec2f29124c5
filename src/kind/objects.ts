import type { V1Pod } from '@kubernetes/client-node';

/** What the API server's answers and a pod's status say, read the same way everywhere in src/kind. */

const hasCode = (code: number) => (e: unknown): boolean => (e as { code?: number }).code === code;
/** 409: it exists already (a create that may be repeated). */
export const isConflict = hasCode(409);
/** 404: it is gone already (a delete that may be repeated). */
export const isNotFound = hasCode(404);

/** Labels as a label selector (`k=v,k2=v2`), the form list calls take. */
export const labelSelector = (labels: Readonly<Record<string, string>>): string => Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');

/** Ready and not being deleted: a pod being deleted leaves its Service's endpoints, so it takes no new connection. */
export function isPodReady(p: V1Pod): boolean {
  return !p.metadata?.deletionTimestamp && (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
}

/**
 * A CreateContainerConfigError the kubelet retries by itself: its watch of the pod's Secrets or
 * ConfigMaps had not synced yet ("failed to sync secret cache: timed out waiting for the
 * condition"), seen once on a node busy loading images. A missing key or object stays an error.
 */
const TRANSIENT_CONFIG_ERROR = /failed to sync (secret|configmap) cache/i;

/** Why a pod will not come up by itself, or undefined while it may still. */
export function podFailure(p: V1Pod): string | undefined {
  for (const c of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
    const reason = c.state?.waiting?.reason ?? '';
    if (reason === 'CreateContainerConfigError' && TRANSIENT_CONFIG_ERROR.test(c.state?.waiting?.message ?? '')) continue;
    if (/CrashLoopBackOff|ErrImageNeverPull|ErrImagePull|ImagePullBackOff|CreateContainerConfigError|InvalidImageName/.test(reason)) {
      return `${p.metadata?.name}/${c.name}: ${reason}${c.state?.waiting?.message ? ` (${c.state.waiting.message.slice(0, 300)})` : ''}${c.lastState?.terminated ? `, last exit ${c.lastState.terminated.exitCode}` : ''}`;
    }
  }
  return undefined;
}
