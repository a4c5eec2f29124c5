import { MESH_EDGES } from '../mesh/mesh.ts';
import { meshOnEdge } from './mesh-scope.ts';
import type { FaultModule } from './types.ts';

/**
 * `h2UpgradePolicy: UPGRADE` reaches the client's sidecar, as when a platform team sets it in
 * MeshConfig to multiplex the mesh's traffic: istiod pushes every HTTP port's outbound cluster at
 * HTTP/2 (pilot/pkg/networking/core/cluster_traffic_policy.go shouldH2Upgrade: the mesh policy
 * applies whatever the destination), and the sidecar drains its HTTP/1.1 pools. A server with a
 * sidecar takes HTTP/2 on its inbound listener and hands HTTP/1.1 to the application; a server
 * without one (a KServe predictor with `sidecar.istio.io/inject: "false"`) gets HTTP/2 it does
 * not speak (istio/istio#39566). Reverting pushes DO_NOT_UPGRADE, Istio's default, back.
 */
export const h2Upgrade: FaultModule = {
  type: 'h2-upgrade',
  on: 'edge',
  targets: Object.keys(MESH_EDGES),
  needsSidecar: 'client',
  description: "the client's sidecar gets h2UpgradePolicy UPGRADE (its outbound clusters speak HTTP/2), pushed as a new CDS version; reverted to DO_NOT_UPGRADE",
  params: {},
  async inject(_stack, edge, _params, scope) {
    const mesh = meshOnEdge('h2-upgrade', edge, scope.mesh);
    const note = await mesh.setH2Upgrade(true);
    return {
      undo: async () => void (await mesh.setH2Upgrade(false)),
      persisted: { kind: 'none' },
      note,
    };
  },
};
