import { KUBERNETES_FAULT_TARGETS, KUBERNETES_TARGETS, kubernetesOf } from './kubernetes.ts';
import type { FaultModule } from './types.ts';

/**
 * A release that cannot start: the component's new revision points at a model that is not in the
 * bucket (KServe's InferenceService) or an image that is not there (a Deployment). The rolling
 * update keeps the old pod serving; does anything say the rollout is stuck, and does serving hold?
 * The window opens once a pod of the new revision is seen failing; revert restores the revision.
 */
export const badRollout: FaultModule = {
  type: 'bad-rollout',
  on: 'process',
  onlyOn: KUBERNETES_TARGETS,
  targets: KUBERNETES_FAULT_TARGETS,
  description: "the component rolls out a revision whose pod never starts (a missing model path or image) until revert",
  params: {},
  async inject(stack, target) {
    const { k, name } = kubernetesOf(stack, 'bad-rollout', target);
    const r = await k.rollOutBroken(name);
    return { undo: r.undo, persisted: { kind: 'none' }, note: r.note, activeAt: Date.now() };
  },
};
