import { MESH_EDGES } from '../mesh/mesh.ts';
import { meshOnEdge } from './mesh-scope.ts';
import type { FaultModule } from './types.ts';

/**
 * A PeerAuthentication of mode STRICT reaches the server's sidecar: it now accepts only mutual
 * TLS, as when a namespace's or the mesh's policy is tightened from Istio's default PERMISSIVE.
 * The sidecar gets it as istiod pushes it, a new listener version whose plaintext filter chain is
 * gone. A client whose DestinationRule still says `tls.mode: DISABLE` (Kubeflow's manifests set it
 * for the pipeline services, kubeflow/kubeflow#5271) is refused; one on ISTIO_MUTUAL must not notice.
 * Reverting pushes PERMISSIVE back. The sidecar lives and dies with the scenario's mesh, so a
 * crashed run leaves nothing for the next one to undo.
 */
export const mtlsStrict: FaultModule = {
  type: 'mtls-strict',
  on: 'edge',
  targets: Object.keys(MESH_EDGES),
  needsSidecar: 'server',
  description: "the server's sidecar gets PeerAuthentication STRICT (mutual TLS only), pushed as a new listener version; reverted to PERMISSIVE",
  params: {},
  async inject(_stack, edge, _params, scope) {
    const mesh = meshOnEdge('mtls-strict', edge, scope.mesh);
    const note = await mesh.setPeerAuthentication('STRICT');
    return {
      undo: async () => void (await mesh.setPeerAuthentication('PERMISSIVE')),
      persisted: { kind: 'none' },
      note,
    };
  },
};
