import type { Scenario } from '../scenario/types.ts';
import type { Budget } from '../verdict/types.ts';
import type { ExperimentSpec } from './experiment.ts';

/**
 * A scenario that sets no p95 budget is judged against the capability itself: 10× its own
 * steady-state median. A machine twice as slow (or one core busy) moves the median and the
 * budget together, where an absolute number would flip verdicts with the machine's speed.
 * The floor keeps a capability whose median is a few ms from failing on scheduling noise.
 */
export const DEFAULT_P95_FACTOR = 10;
export const P95_FLOOR_MS = 1_000;

export function budgetOf(s: Scenario): Budget {
  const p95 = s.budgetSpec.p95;
  const minSuccessRate = s.budgetSpec.minSuccessRate;
  if (p95.kind === 'absolute') return { minSuccessRate, maxP95Ms: p95.ms };
  return { minSuccessRate, maxP95Ms: P95_FLOOR_MS, relativeP95: { factor: p95.kind === 'relative' ? p95.factor : DEFAULT_P95_FACTOR } };
}

export function experimentSpec(s: Scenario): ExperimentSpec {
  return {
    name: s.name,
    workloads: s.workload,
    fault: s.fault,
    dependencyFault: s.dependencyFault,
    deadlines: s.deadlines,
    budget: budgetOf(s),
    steadyMs: s.steadyMs,
    baselineMs: s.observeMs,
    client: { maxRetries: s.client.maxRetries, backoffFactor: s.client.backoffFactor, timeoutSeconds: s.client.timeoutSeconds },
    clientVenv: s.client.venv,
  };
}
