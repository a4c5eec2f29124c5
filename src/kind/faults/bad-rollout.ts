import { KubernetesObjectApi, PatchStrategy, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { timeouts } from '../../timeouts.ts';
import { pollUntil } from '../../util/poll.ts';
import type { KindCluster } from '../cluster.ts';
import { isvcRef, type Conditioned } from '../inference-service.ts';
import { isPodReady, podFailure } from '../objects.ts';

/**
 * A rollout whose new pod never starts, as a mistyped model path makes one. The
 * rolling update keeps the old pod while the new one fails (one replica: maxUnavailable rounds
 * down to 0), so serving should go on; the question is what says the rollout is stuck. The fault
 * has acted once a pod of the new revision is seen failing (inject waits for it, else it fails).
 * Revert restores the template: the Deployment goes back to its old ReplicaSet.
 */
export interface BadRollout {
  note: string;
  undo: () => Promise<void>;
}

/** The new revision's failure: podFailure's waiting reasons, or an exit already seen (an init container's first failed try). */
function revisionFailure(p: V1Pod): string | undefined {
  const waiting = podFailure(p);
  if (waiting) return waiting;
  for (const c of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
    const t = c.state?.terminated ?? c.lastState?.terminated;
    if (t && t.exitCode !== 0) return `${p.metadata?.name}/${c.name}: exited ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}${t.message ? `: ${t.message.trim().split('\n').at(-1)?.slice(0, 300)}` : ''}`;
  }
  return undefined;
}

/**
 * An InferenceService's new revision pointed at a model that is not in the bucket, as a mistyped
 * model version does: KServe's storage initializer fails in the new pod.
 */
export async function badInferenceServiceRollout(cluster: KindCluster, name: string, namespace: string, labelSelector: string): Promise<BadRollout> {
  const api = KubernetesObjectApi.makeApiClient(cluster.kc);
  const ref = isvcRef(name, namespace);
  type Isvc = Conditioned & { spec?: { predictor?: { model?: { storageUri?: string } } } };
  const uri = ((await api.read(ref)) as Isvc).spec?.predictor?.model?.storageUri;
  if (!uri) throw new Error(`bad-rollout: InferenceService ${namespace}/${name} has no predictor.model.storageUri to change`);
  const setUri = (storageUri: string) => api.patch({ ...ref, spec: { predictor: { model: { storageUri } } } } as KubernetesObject, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
  const conditions = async () => {
    const c = ((await api.read(ref)) as Isvc).status?.conditions ?? [];
    return `InferenceService conditions ${c.map((x) => `${x.type}=${x.status}${x.reason ? ` (${x.reason})` : ''}`).join(', ') || 'none'}`;
  };
  const list = async () => (await cluster.core.listNamespacedPod({ namespace, labelSelector })).items;
  const missing = `${uri.replace(/\/+$/, '')}-missing-revision`;
  const what = `InferenceService ${name}: storageUri ${uri} → ${missing} (not in the bucket)`;

  const before = new Set((await list()).map((p) => p.metadata?.name));
  await setUri(missing);
  let failure: string;
  try {
    failure = await pollUntil(`a pod of the bad revision (${what}) to fail`, timeouts.podReady, async () => {
      const fresh = (await list()).filter((p) => !before.has(p.metadata?.name));
      const why = fresh.map(revisionFailure).find(Boolean);
      return why ? { done: true, value: why } : { done: false, note: `${fresh.length} new pods, none failed yet` };
    });
  } catch (e) {
    await setUri(uri);
    throw e;
  }
  const first = await conditions();
  let last = '';
  return {
    // Read when the results are written: by then the revert has read the conditions a second time.
    get note() {
      return `${what}; the new revision fails: ${failure}; as it failed: ${first}${last ? `; at the end of the window: ${last}` : ''}`;
    },
    undo: async () => {
      last = await conditions().catch((e: unknown) => `unreadable (${(e as Error).message})`);
      await setUri(uri);
      await pollUntil(`'${labelSelector}' back to its ready pods only`, timeouts.podReady, async () => {
        const live = (await list()).filter((p) => !p.metadata?.deletionTimestamp);
        const notReady = live.filter((p) => !isPodReady(p));
        return live.length && !notReady.length ? { done: true, value: undefined } : { done: false, note: `${live.length} pods, not ready: ${notReady.map((p) => p.metadata?.name).join(', ') || 'none'}` };
      });
    },
  };
}
