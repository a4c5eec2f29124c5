import type { FaultSpec } from '../faults/index.ts';
import type { MeshSpec } from '../mesh/mesh.ts';
import type { AutoscaleSpec } from '../targets/stack.ts';
import type { WorkloadName } from '../probes/index.ts';
import type { Budget, Deadlines, ExpectableVerdict } from '../verdict/types.ts';
import type { MlflowClientSettings } from '../workloads/mlflow-client.ts';

export type Platform = 'mlflow' | 'kubeflow';

export interface Expectation {
  /** Never `unobserved`: that verdict says the scenario failed to exercise the capability. */
  verdict: ExpectableVerdict;
  /** Upstream issue for a known silent behaviour: the run stays green, a fix shows as an unexpected pass. */
  known?: string;
}

/**
 * The p95 latency a capability may reach under the fault and still be `resilient`: an absolute
 * duration (`p95: 5s`), a multiple of the capability's own steady-state median measured before the
 * fault (`p95: 10x`), or not given (`default`).
 */
export type P95Spec = { kind: 'absolute'; ms: number } | { kind: 'relative'; factor: number } | { kind: 'default' };

/** The `budget` section as written, before the engine turns it into a Budget. */
export interface BudgetSpec {
  minSuccessRate: number;
  p95: P95Spec;
}

/** A validated scenario file (DESIGN.md §3), durations in ms. */
export interface Scenario {
  file: string;
  name: string;
  description: string;
  platforms: Platform[];
  workload: WorkloadName[];
  /** null: the no-fault baseline (`fault: {type: none, duration: …}`). */
  fault: FaultSpec | null;
  observeMs: number;
  dependencyFault: boolean;
  expect: Record<string, Expectation>;
  deadlines: Deadlines;
  /** Absolute p95 in maxP95Ms, or 2000 when p95 is relative or not given; budgetSpec says which. */
  budget: Budget;
  budgetSpec: BudgetSpec;
  steadyMs: number;
  client: MlflowClientSettings & { venv: 'mlflow3' | 'mlflow2' };
  /** Sidecars on one edge for the whole scenario (`mesh:`). */
  mesh?: MeshSpec;
  /** A component under an autoscaler for the whole scenario (`autoscale:`, Kubernetes targets). */
  autoscale?: AutoscaleSpec;
  /**
   * Why `--cpu-hog` would change the phenomenon rather than test its stability (a timing race a
   * starved machine hides): such a scenario is not run under the hog, and the run says so.
   */
  notUnderCpuHog?: string;
}
