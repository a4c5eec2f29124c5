import type { MeshControl } from './types.ts';

/**
 * The scenario's mesh a mesh fault acts on, or an error saying what the scenario lacks. The
 * validator refuses such a scenario before anything starts; this guards a fault called directly.
 */
export function meshOnEdge(fault: string, edge: string, mesh: MeshControl | undefined): MeshControl {
  if (!mesh || mesh.edge !== edge) throw new Error(`${fault} acts on a sidecar of a mesh on ${edge}; this scenario has ${mesh ? `its mesh on ${mesh.edge}` : 'no mesh'}`);
  return mesh;
}
