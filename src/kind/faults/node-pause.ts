import { docker } from '../../targets/docker/engine.ts';
import { checkClusterName } from '../guard.ts';

/**
 * Freezes a node: its container's cgroup is frozen (`docker pause`), so its kubelet, kube-proxy
 * and every pod on it stop at once, as a hung VM would, while the node stays on the network.
 * Nothing tells the API server; it finds out only when the node's lease expires (the node
 * controller's grace period), which is what the fault exposes. Its revert thaws the node.
 */
export interface NodePaused {
  node: string;
  note: string;
  undo: () => Promise<void>;
}

export async function pauseNode(cluster: string, node: string): Promise<NodePaused> {
  const bad = checkClusterName(cluster);
  if (bad) throw new Error(`node-pause: ${bad}`);
  // Only a node container of our own cluster, named by kind's label, is ever paused.
  const ours = (await docker(['ps', '-q', '--filter', `label=io.x-k8s.kind.cluster=${cluster}`, '--filter', `name=^${node}$`])).trim();
  if (!ours) throw new Error(`node-pause: '${node}' is not a running node of kind cluster ${cluster}`);
  await docker(['pause', node]);
  return {
    node,
    note: `froze node ${node} (docker pause: kubelet and its pods stopped, the node still on the network)`,
    undo: async () => {
      const state = (await docker(['inspect', '--format', '{{.State.Paused}}', node]).catch(() => 'false')).trim();
      if (state === 'true') await docker(['unpause', node]);
    },
  };
}
