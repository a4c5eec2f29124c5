import { MESH_EDGES } from '../mesh/mesh.ts';
import { meshOnEdge } from './mesh-scope.ts';
import type { FaultModule } from './types.ts';

/**
 * The client's pod starts again (a new pipeline step, a new replica of a caller) and its application
 * calls at once, before its sidecar listens: Istio starts the application and the proxy side by
 * side unless `holdApplicationUntilProxyStarts` is set, and it is off by default (ProxyConfig;
 * istio/istio#11130, #54884). iptables already sends every outbound connection to the sidecar's
 * port, so until Envoy has its listener each one is refused. Here the client's sidecar is stopped
 * for the window (its listener refuses, as the redirected port does) and started again at revert,
 * as Envoy comes up with istiod's first push: the window is how long that takes.
 */
export const sidecarNotReady: FaultModule = {
  type: 'sidecar-not-ready',
  on: 'edge',
  targets: Object.keys(MESH_EDGES),
  needsSidecar: 'client',
  description: "the client's sidecar is not listening yet, as when a pod's application starts before its proxy (holdApplicationUntilProxyStarts off, Istio's default); it starts at revert",
  params: {},
  async inject(_stack, edge, _params, scope) {
    const mesh = meshOnEdge('sidecar-not-ready', edge, scope.mesh);
    const { note, up } = await mesh.clientSidecarDown();
    return { undo: up, persisted: { kind: 'none' }, note };
  },
};
