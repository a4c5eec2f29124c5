import { KUBERNETES_FAULT_TARGETS, KUBERNETES_TARGETS, kubernetesOf } from './kubernetes.ts';
import type { FaultModule } from './types.ts';

/**
 * The component's pod deleted at once (grace 0), as an eviction or a lost node does: unlike
 * `kill`, whose container the kubelet restarts in the same pod, the Deployment must make a new pod
 * (a new address, a scheduler decision, admission, KServe's storage initializer again). Revert
 * waits until the replacement is ready.
 */
export const podDelete: FaultModule = {
  type: 'pod-delete',
  on: 'process',
  onlyOn: KUBERNETES_TARGETS,
  targets: KUBERNETES_FAULT_TARGETS,
  description: "the component's pod is deleted (grace 0); its Deployment makes a new one",
  params: {},
  async inject(stack, target) {
    const { k, name } = kubernetesOf(stack, 'pod-delete', target);
    const d = await k.deletePod(name);
    return {
      undo: d.undo,
      persisted: { kind: 'none' },
      // Read when the results are written: by then the revert has measured the replacement.
      get note() {
        return d.note;
      },
    };
  },
};
