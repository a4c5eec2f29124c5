import type { FaultSpec } from '../faults/index.ts';
import type { WorkloadName } from '../probes/index.ts';
import type { Budget, Deadlines, Verdict } from '../verdict/types.ts';
import type { MlflowClientSettings } from '../workloads/mlflow-client.ts';

export type Platform = 'mlflow' | 'kubeflow';

export interface Expectation {
  verdict: Verdict;
  /** Upstream issue for a known silent behaviour: the run stays green, a fix shows as an unexpected pass. */
  known?: string;
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
  budget: Budget;
  steadyMs: number;
  client: MlflowClientSettings & { venv: 'mlflow3' | 'mlflow2' };
}
