import type { CoreV1Api } from '@kubernetes/client-node';
import { timeouts } from '../../timeouts.ts';
import { pollUntil } from '../../util/poll.ts';
import { isNotFound } from '../objects.ts';

/**
 * A namespace ResourceQuota that leaves no room: `pods` is set to the pods the namespace holds
 * now (less `below`), so any new pod (a scale-up, a new revision) is refused at admission. A pod
 * that is deleted stops counting once its grace period is over, so at `below: 0` its replacement
 * takes the freed room; `below: 1` is a namespace already over its quota (another workload took
 * the room, or the quota was lowered), where a replaced pod is not replaced. The fault is active once the quota controller has written the quota's status:
 * until then the API server refuses every pod for an unknown status, which is not this fault.
 * Its revert deletes the quota; a cluster's deletion reverts it too.
 */
export const QUOTA_NAME = 'mlops-chaos-no-room';

export interface QuotaInjected {
  undo: () => Promise<void>;
  note: string;
  /** The pod count the quota allows (the pods already there). */
  pods: number;
}

/** Pods that count against a `pods` quota: not Succeeded or Failed. */
export async function countedPods(core: CoreV1Api, namespace: string): Promise<number> {
  const pods = (await core.listNamespacedPod({ namespace })).items;
  return pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length;
}

export async function injectResourceQuota(core: CoreV1Api, namespace: string, below = 0): Promise<QuotaInjected> {
  const pods = Math.max(0, (await countedPods(core, namespace)) - below);
  await core.createNamespacedResourceQuota({
    namespace,
    body: { metadata: { name: QUOTA_NAME, labels: { 'app.kubernetes.io/managed-by': 'mlops-chaos' } }, spec: { hard: { pods: String(pods) } } },
  });
  await pollUntil(`the quota controller to account for quota ${namespace}/${QUOTA_NAME}`, timeouts.podReady, async () => {
    const q = await core.readNamespacedResourceQuota({ name: QUOTA_NAME, namespace });
    const hard = q.status?.hard?.pods;
    return hard === String(pods) && q.status?.used?.pods !== undefined ? { done: true, value: undefined } : { done: false, note: `status hard ${hard ?? 'unset'}, used ${q.status?.used?.pods ?? 'unset'}` };
  });
  return {
    pods,
    note: `ResourceQuota ${namespace}/${QUOTA_NAME}: pods ${pods} (${below ? `${below} fewer than the pods already there` : 'the pods already there'}), so no new pod is admitted`,
    undo: async () => {
      try {
        await core.deleteNamespacedResourceQuota({ name: QUOTA_NAME, namespace });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    },
  };
}
