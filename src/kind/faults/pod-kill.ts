import type { CoreV1Api } from '@kubernetes/client-node';
import { timeouts } from '../../timeouts.ts';
import { pollUntil } from '../../util/poll.ts';
import { isPodReady } from '../objects.ts';

/**
 * Deletes one Running pod of a component at once (grace period 0, as a node losing it would),
 * and measures its replacement: the controller must create a new pod that becomes ready. There
 * is nothing to undo; `replaced` is the check that the fault acted and the platform recovered.
 */
export interface PodKilled {
  victim: string;
  note: string;
  /** Resolves with the replacement's name and the time from the kill to it being ready. */
  replaced: () => Promise<{ pod: string; readyAfterMs: number }>;
}

export async function killPod(core: CoreV1Api, namespace: string, labelSelector: string): Promise<PodKilled> {
  const pods = (await core.listNamespacedPod({ namespace, labelSelector })).items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
  const victim = pods[0]?.metadata?.name;
  if (!victim) throw new Error(`pod-kill: no Running pod in namespace ${namespace} matches '${labelSelector}'`);
  const before = new Set(pods.map((p) => p.metadata?.name));
  const t0 = Date.now();
  await core.deleteNamespacedPod({ name: victim, namespace, gracePeriodSeconds: 0 });
  return {
    victim,
    note: `deleted pod ${namespace}/${victim} (grace 0) of '${labelSelector}'`,
    replaced: () =>
      pollUntil(`a ready replacement for pod ${namespace}/${victim}`, timeouts.podReady, async () => {
        const now = (await core.listNamespacedPod({ namespace, labelSelector })).items;
        const fresh = now.find((p) => !before.has(p.metadata?.name) && isPodReady(p));
        return fresh ? { done: true, value: { pod: fresh.metadata!.name!, readyAfterMs: Date.now() - t0 } } : { done: false, note: `${now.length} pods, none new and ready` };
      }),
  };
}
