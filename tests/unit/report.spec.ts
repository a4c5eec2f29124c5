import { test, expect } from '@playwright/test';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAllureScenario } from '../../src/report/allure.ts';
import { junitXml, matrixMarkdown } from '../../src/report/matrix.ts';
import { formatVerdicts } from '../../src/report/print.ts';
import { erroredResult, type ScenarioResult } from '../../src/report/results.ts';
import type { Scenario } from '../../src/scenario/types.ts';

const scenario = { name: 'db-outage', file: 'scenarios/db-outage.yaml', client: { maxRetries: 0, backoffFactor: 0, timeoutSeconds: 5, venv: 'mlflow3' } } as unknown as Scenario;
const ok: ScenarioResult = {
  scenario: 'baseline', file: 'scenarios/baseline.yaml', target: 'local', versions: {}, client: scenario.client, fault: null, ledgerFindings: 0, durationMs: 1000,
  verdicts: [{ platform: 'mlflow', capability: 'mlflow.tracking', verdict: 'resilient', expected: 'resilient', judgement: 'as-expected', ttdMs: null, ttrMs: null, evidence: [], stats: { opsInWindow: 3, errorsInWindow: 0, successRateInWindow: 1, p95MsInWindow: 10, minOpsInWindow: 3, steadyMedianMs: 5, p95BudgetMs: 500, p95Basis: 'the floor 500 ms' } }],
};

test.describe('reports of an errored experiment', () => {
  const errored = erroredResult(scenario, 'timed out after 30000 ms waiting for steady state', { target: 'local', versions: {} }, 31_000);

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

test.describe('Allure results of a chaos run', () => {
  const results = (dir: string) =>
    readdirSync(dir).filter((f) => f.endsWith('-result.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { name: string; status: string; steps: { name: string }[]; attachments: { name: string }[]; links: { url: string }[]; statusDetails?: { message: string } });

  test('a test per capability with the experiment steps and evidence; a new silent verdict fails, a known one passes with its link', () => {
    const dir = mkdtempSync(join(tmpdir(), 'allure-unit-'));
    try {
      const silent = { ...ok.verdicts[0]!, capability: 'mlflow.registry', verdict: 'silent' as const, expected: null, judgement: 'new-silent' as const, evidence: [{ rule: 'lost-write' as const, detail: 'lost: metric loss step 3' }] };
      const known = { ...ok.verdicts[0]!, capability: 'mlflow.artifacts', verdict: 'silent' as const, expected: 'silent' as const, known: 'https://github.com/mlflow/mlflow/issues/4630', judgement: 'as-expected' as const };
      writeAllureScenario(dir, { ...ok, verdicts: [...ok.verdicts, silent, known] }, [{ name: 'steady state', start: 1, stop: 2 }, { name: 'inject outage on mlflow->s3', start: 2, stop: 3 }], {});
      const byName = Object.fromEntries(results(dir).map((r) => [r.name, r]));
      expect(Object.keys(byName).sort()).toEqual(['baseline › mlflow.artifacts', 'baseline › mlflow.registry', 'baseline › mlflow.tracking']);
      expect(byName['baseline › mlflow.tracking']!.status).toBe('passed');
      expect(byName['baseline › mlflow.registry']!.status).toBe('failed');
      expect(byName['baseline › mlflow.registry']!.steps.map((s) => s.name)).toEqual(['steady state', 'inject outage on mlflow->s3']);
      expect(byName['baseline › mlflow.artifacts']!.status).toBe('passed');
      expect(byName['baseline › mlflow.artifacts']!.links.map((l) => l.url)).toEqual(['https://github.com/mlflow/mlflow/issues/4630']);
      const evidence = byName['baseline › mlflow.registry']!.attachments.find((a) => a.name === 'evidence') as unknown as { source: string };
      expect(readFileSync(join(dir, evidence.source), 'utf8')).toBe('lost-write: lost: metric loss step 3');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an errored experiment is one broken test naming why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'allure-unit-'));
    try {
      writeAllureScenario(dir, erroredResult(scenario, 'steady state never reached', { target: 'local', versions: {} }, 5), [], {});
      const [r] = results(dir);
      expect(r!.status).toBe('broken');
      expect(r!.statusDetails!.message).toBe('the experiment errored: steady state never reached');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
