import type { Scenario } from '../scenario/types.ts';
import type { ExperimentSpec } from './experiment.ts';

export function experimentSpec(s: Scenario): ExperimentSpec {
  return {
    name: s.name,
    workloads: s.workload,
    fault: s.fault,
    dependencyFault: s.dependencyFault,
    deadlines: s.deadlines,
    budget: s.budget,
    steadyMs: s.steadyMs,
    baselineMs: s.observeMs,
    client: { maxRetries: s.client.maxRetries, backoffFactor: s.client.backoffFactor, timeoutSeconds: s.client.timeoutSeconds },
    clientVenv: s.client.venv,
  };
}
