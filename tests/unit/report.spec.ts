import { test, expect } from '@playwright/test';
import { junitXml, matrixMarkdown } from '../../src/report/matrix.ts';
import { formatVerdicts } from '../../src/report/print.ts';
import { erroredResult, type ScenarioResult } from '../../src/report/results.ts';
import type { Scenario } from '../../src/scenario/types.ts';

const scenario = { name: 'db-outage', file: 'scenarios/db-outage.yaml', client: { maxRetries: 0, backoffFactor: 0, timeoutSeconds: 5, venv: 'mlflow3' } } as unknown as Scenario;
const ok: ScenarioResult = {
  scenario: 'baseline', file: 'scenarios/baseline.yaml', target: 'local', versions: {}, client: scenario.client, fault: null, ledgerFindings: 0, durationMs: 1000,
  verdicts: [{ platform: 'mlflow', capability: 'mlflow.tracking', verdict: 'resilient', expected: 'resilient', judgement: 'as-expected', ttdMs: null, ttrMs: null, evidence: [], stats: { opsInWindow: 1, errorsInWindow: 0, successRateInWindow: 1, p95MsInWindow: 10 } }],
};

test.describe('reports of an errored experiment', () => {
  const errored = erroredResult(scenario, 'timed out after 30000 ms waiting for steady state', {}, 31_000);

  test('the matrix keeps its row and says why it has no verdicts', () => {
    const md = matrixMarkdown([ok, errored], { date: 'd', versions: {} });
    expect(md).toContain('| db-outage | – | **errored**: timed out after 30000 ms waiting for steady state |');
    expect(md).toContain('| baseline | none | resilient');
  });

  test('JUnit counts it as an error, and the print names it', () => {
    const xml = junitXml([ok, errored]);
    expect(xml).toContain('tests="2" failures="0" errors="1"');
    expect(xml).toContain('<error message="the experiment errored">timed out after 30000 ms waiting for steady state</error>');
    expect(formatVerdicts(errored)).toBe('db-outage: ERRORED, no verdicts: timed out after 30000 ms waiting for steady state');
  });
});
