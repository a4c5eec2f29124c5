import { FAULTS } from '../faults/index.ts';
import type { TargetName } from '../targets/stack.ts';
import type { Scenario } from './types.ts';

/** Targets that can run the mesh's sidecars (processes on local; beside the server, a container on docker, a container in its pod on kind). */
const MESH_TARGETS: readonly TargetName[] = ['local', 'docker', 'kind'];
/** Edges whose server sidecar kind can run. */
const KIND_SIDECAR_EDGES: readonly string[] = ['client->kserve', 'client->mlflow'];

/**
 * Where a scenario can run, and why not elsewhere: its fault may exist only on some targets (a
 * container's memory limit), its mesh only where sidecars can be started. Undefined: anywhere.
 */
export function scenarioTargets(s: Scenario): { targets: readonly TargetName[]; because: string } | undefined {
  const onlyOn = s.fault ? FAULTS[s.fault.type].onlyOn : undefined;
  if (onlyOn) return { targets: onlyOn, because: `fault '${s.fault!.type}'` };
  if (s.autoscale) return { targets: ['kind'], because: 'its autoscaler (a HorizontalPodAutoscaler needs Kubernetes)' };
  // On kind a server sidecar goes in KServe's predictor pod or the tracking server's (pod-sidecar.ts); the other servers are not built to take one.
  if (s.mesh?.server && !KIND_SIDECAR_EDGES.includes(s.mesh.edge)) return { targets: ['local', 'docker'], because: `its server sidecar on ${s.mesh.edge} (on kind only KServe's predictor pod and the tracking server's, for client->kserve and client->mlflow, take one)` };
  if (s.mesh) return { targets: MESH_TARGETS, because: 'its mesh sidecars' };
  return undefined;
}
