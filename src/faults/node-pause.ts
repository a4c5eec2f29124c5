import { KUBERNETES_FAULT_TARGETS, KUBERNETES_TARGETS, kubernetesOf } from './kubernetes.ts';
import type { FaultModule } from './types.ts';

/**
 * The node under the component's pod hangs, as a VM whose host stalls does: its container is
 * frozen (`docker pause`), so its kubelet, kube-proxy and every pod on it stop at once while the
 * node stays on the network and its pods' sockets still take connections in the kernel. Nothing
 * tells the API server: it learns only when the node's lease runs out (the node controller's
 * grace period), and until then the Services keep sending traffic there (kubernetes/kubernetes#97112).
 * Revert thaws the node and waits for it and its pods to be ready.
 */
export const nodePause: FaultModule = {
  type: 'node-pause',
  on: 'process',
  onlyOn: KUBERNETES_TARGETS,
  targets: KUBERNETES_FAULT_TARGETS,
  description: "the node the component's pod runs on is frozen (docker pause: kubelet and every pod there stop, the node stays on the network); thawed at revert",
  params: {},
  async inject(stack, target) {
    const { k, name } = kubernetesOf(stack, 'node-pause', target);
    const f = await k.freezeNode(name);
    return {
      undo: f.undo,
      persisted: { kind: 'none' },
      // Read when the results are written: by then the revert has read the node controller's verdict.
      get note() {
        return f.note;
      },
    };
  },
};
