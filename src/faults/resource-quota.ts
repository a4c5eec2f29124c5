import { KUBERNETES_FAULT_TARGETS, KUBERNETES_TARGETS, kubernetesOf } from './kubernetes.ts';
import type { FaultModule } from './types.ts';

/**
 * The seed's quota incident: a namespace ResourceQuota with no room left. Running pods keep
 * running; what needs a new pod (a restart, a rollout, a new replica: the scenario's `restart`)
 * is refused at admission, and only a ReplicaSet event says so. Does the component the scenario
 * names wait silently, and does it come back once the quota is lifted? Revert deletes the quota.
 */
export const resourceQuota: FaultModule = {
  type: 'resource-quota',
  on: 'process',
  onlyOn: KUBERNETES_TARGETS,
  targets: KUBERNETES_FAULT_TARGETS,
  description: "the stack's namespace admits no new pod until revert (a ResourceQuota at its current pod count)",
  actsOnNewStarts: true,
  params: {
    // A deleted pod stops counting after its grace period: at 0 its replacement fits again.
    below: { doc: 'pods fewer than the namespace runs now that the quota allows (0: no new pod beside them; 1: a pod that goes is not replaced either)', min: 0, max: 10, default: 1 },
  },
  async inject(stack, target, p) {
    const { k } = kubernetesOf(stack, 'resource-quota', target);
    const q = await k.blockNewPods(p.below ?? 1);
    // The cluster goes with the stack, and the quota with it: nothing for a later run to revert.
    return { undo: q.undo, persisted: { kind: 'none' }, note: q.note };
  },
};
