import { test, expect } from '../../fixtures/experiment.ts';
import type { ExperimentSpec } from '../../src/experiment/experiment.ts';

const base: ExperimentSpec = {
  name: 'baseline',
  workloads: ['mlflow.training', 'mlflow.registry', 'mlflow.serving', 'mlflow.health', 'kserve.predict'],
  fault: null,
  dependencyFault: true,
  deadlines: { operationMs: 15_000, recoveryMs: 30_000, healthGraceMs: 5_000 },
  budget: { minSuccessRate: 0.99, maxP95Ms: 2_000 },
  steadyMs: 3_000,
  baselineMs: 8_000,
  client: { maxRetries: 2, backoffFactor: 1, timeoutSeconds: 10 },
  clientVenv: 'mlflow3',
};

test('baseline: no fault, every capability resilient', async ({ experiment }) => {
  const r = await experiment(base);
  for (const v of r.verdicts) expect(v.verdict, `${v.capability}: ${JSON.stringify(v.evidence)}`).toBe('resilient');
  expect(r.verdicts.map((v) => v.capability).sort()).toEqual(['kserve.v1', 'kserve.v2', 'mlflow.artifacts', 'mlflow.registry', 'mlflow.serving', 'mlflow.tracking']);
});

test('mlflow->postgres outage: tracking degrades, /health lies', async ({ experiment }) => {
  const r = await experiment({ ...base, name: 'pg-outage', fault: { type: 'outage', target: 'mlflow->postgres', params: {}, durationMs: 8_000 } });
  console.log(JSON.stringify(r.verdicts.map((v) => [v.capability, v.verdict, v.ttdMs, v.ttrMs, v.evidence.slice(0, 2)]), null, 1));
});
