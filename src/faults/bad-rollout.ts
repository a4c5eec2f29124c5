import { KUBERNETES_TARGETS, kubernetesOf } from './kubernetes.ts';
import type { FaultModule } from './types.ts';

/**
 * A release that cannot start: the InferenceService's new revision points at a model that is not
 * in the bucket. The rolling update keeps the old pod serving; does serving hold, and what says the
 * rollout is stuck? The window opens once a pod of the new revision is seen failing; revert
 * restores the revision.
 */
export const badRollout: FaultModule = {
  type: 'bad-rollout',
  on: 'process',
  onlyOn: KUBERNETES_TARGETS,
  targets: ['kserve'],
  description: "KServe's InferenceService rolls out a revision whose pod never starts (a model path not in the bucket) until revert",
  params: {},
  async inject(stack, target) {
    const { k, name } = kubernetesOf(stack, 'bad-rollout', target);
    const r = await k.rollOutBroken(name);
    return {
      undo: r.undo,
      persisted: { kind: 'none' },
      activeAt: Date.now(),
      // Read when the results are written: the owner's status at the window's end is read by the revert.
      get note() {
        return r.note;
      },
    };
  },
};
