import { KubernetesObjectApi, PatchStrategy, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { timeouts } from '../../timeouts.ts';
import { pollUntil } from '../../util/poll.ts';
import type { KindCluster } from '../cluster.ts';
import { isvcRef, type Conditioned } from '../inference-service.ts';
import { isPodReady, podFailure } from '../objects.ts';

/**
 * A rollout whose new pod never starts, as a mistyped model path or image tag makes one. The
 * rolling update keeps the old pod while the new one fails (one replica: maxUnavailable rounds
 * down to 0), so serving should go on; the question is what says the rollout is stuck. The fault
 * has acted once a pod of the new revision is seen failing (inject waits for it, else it fails).
 * Revert restores the template: the Deployment goes back to its old ReplicaSet.
 */
export interface BadRollout {
  note: string;
  undo: () => Promise<void>;
}

/** What the change is and how to take it back, for one kind of owner of the pods. */
interface Breakage {
  what: string;
  apply: () => Promise<void>;
  restore: () => Promise<void>;
  /** The owner's own status while the new revision fails (the InferenceService's conditions). */
  status: () => Promise<string>;
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

async function rollOutBroken(cluster: KindCluster, namespace: string, labelSelector: string, b: Breakage): Promise<BadRollout> {
  const list = async () => (await cluster.core.listNamespacedPod({ namespace, labelSelector })).items;
  const before = new Set((await list()).map((p) => p.metadata?.name));
  await b.apply();
  let failure: string;
  try {
    failure = await pollUntil(`a pod of the bad revision (${b.what}) to fail`, timeouts.podReady, async () => {
      const fresh = (await list()).filter((p) => !before.has(p.metadata?.name));
      const why = fresh.map(revisionFailure).find(Boolean);
      return why ? { done: true, value: why } : { done: false, note: `${fresh.length} new pods, none failed yet` };
    });
  } catch (e) {
    await b.restore();
    throw e;
  }
  const status = await b.status();
  return {
    note: `${b.what}; the new revision fails: ${failure}; meanwhile ${status}`,
    undo: async () => {
      await b.restore();
      await pollUntil(`'${labelSelector}' back to its ready pods only`, timeouts.podReady, async () => {
        const live = (await list()).filter((p) => !p.metadata?.deletionTimestamp);
        const notReady = live.filter((p) => !isPodReady(p));
        return live.length && !notReady.length ? { done: true, value: undefined } : { done: false, note: `${live.length} pods, not ready: ${notReady.map((p) => p.metadata?.name).join(', ') || 'none'}` };
      });
    },
  };
}

/** An InferenceService's new revision pointed at a model that is not in the bucket: KServe's storage initializer fails. */
export async function badInferenceServiceRollout(cluster: KindCluster, name: string, namespace: string, labelSelector: string): Promise<BadRollout> {
  const api = KubernetesObjectApi.makeApiClient(cluster.kc);
  const ref = isvcRef(name, namespace);
  type Isvc = Conditioned & { spec?: { predictor?: { model?: { storageUri?: string } } } };
  const uri = ((await api.read(ref)) as Isvc).spec?.predictor?.model?.storageUri;
  if (!uri) throw new Error(`bad-rollout: InferenceService ${namespace}/${name} has no predictor.model.storageUri to change`);
  const set = (storageUri: string) => api.patch({ ...ref, spec: { predictor: { model: { storageUri } } } } as KubernetesObject, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch).then(() => undefined);
  const missing = `${uri.replace(/\/+$/, '')}-missing-revision`;
  return rollOutBroken(cluster, namespace, labelSelector, {
    what: `InferenceService ${name}: storageUri ${uri} → ${missing} (not in the bucket)`,
    apply: () => set(missing),
    restore: () => set(uri),
    status: async () => {
      const c = ((await api.read(ref)) as Isvc).status?.conditions ?? [];
      return `InferenceService conditions ${c.map((x) => `${x.type}=${x.status}${x.reason ? ` (${x.reason})` : ''}`).join(', ') || 'none'}`;
    },
  });
}

/** A Deployment's new revision with an image that is not on the node (nothing is pulled here): ErrImageNeverPull. */
export async function badDeploymentRollout(cluster: KindCluster, name: string, namespace: string, labelSelector: string): Promise<BadRollout> {
  const api = KubernetesObjectApi.makeApiClient(cluster.kc);
  const dep = await cluster.apps.readNamespacedDeployment({ name, namespace });
  const c = dep.spec?.template.spec?.containers[0];
  if (!c?.image) throw new Error(`bad-rollout: Deployment ${namespace}/${name} has no container image to change`);
  const image = c.image;
  const set = (to: string) =>
    api.patch({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace }, spec: { template: { spec: { containers: [{ name: c.name, image: to }] } } } } as KubernetesObject, undefined, undefined, undefined, undefined, PatchStrategy.StrategicMergePatch).then(() => undefined);
  const missing = `${image}-missing-revision`;
  return rollOutBroken(cluster, namespace, labelSelector, {
    what: `Deployment ${name}: image ${image} → ${missing} (not on the node)`,
    apply: () => set(missing),
    restore: () => set(image),
    status: async () => {
      const d = await cluster.apps.readNamespacedDeployment({ name, namespace });
      return `Deployment conditions ${(d.status?.conditions ?? []).map((x) => `${x.type}=${x.status}${x.reason ? ` (${x.reason})` : ''}`).join(', ') || 'none'}`;
    },
  });
}
