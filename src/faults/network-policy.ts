import { KUBERNETES_TARGETS, kubernetesOf } from './kubernetes.ts';
import type { FaultModule } from './types.ts';

/**
 * One link inside the cluster cut the way a team cuts it: a NetworkPolicy that admits no ingress
 * to the component's pods (a default-deny rolled out ahead of its allow rules, a selector that
 * stopped matching the callers). The policy engine drops the first packet of each new connection
 * and says nothing to either side, while the kubelet's probes (from the node) still pass and the
 * pods stay Ready. The window opens once a new connection is seen cut. Revert deletes the policy.
 */
export const networkPolicy: FaultModule = {
  type: 'network-policy',
  on: 'process',
  onlyOn: KUBERNETES_TARGETS,
  // The cut is confirmed through the client's edge to the component: the components that have one.
  targets: ['kserve', 'mlflow', 'mlflow-serving'],
  description: "a NetworkPolicy admits no new connection to the component's pods until revert (open connections and the kubelet's probes pass)",
  params: {
    admitEdge: { doc: "1: the policy admits the edge's side (Toxiproxy's pod), the control where the engine judges every connection and drops none; 0: it admits nothing", min: 0, max: 1, default: 0 },
  },
  async inject(stack, target, p) {
    const { k, name } = kubernetesOf(stack, 'network-policy', target);
    const cut = await k.restrictIngress(name, (p.admitEdge ?? 0) === 1);
    // The cluster goes with the stack, and the policy with it: nothing for a later run to revert.
    return {
      undo: cut.undo,
      persisted: { kind: 'none' },
      activeAt: cut.activeAt,
      // Read when the results are written: by then the revert has read the engine's verdicts.
      get note() {
        return cut.note;
      },
    };
  },
};
