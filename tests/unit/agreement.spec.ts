import { test, expect } from '@playwright/test';
import { agreement, agreementMarkdown, agreementSummary, flipFailures, repetitionLabel } from '../../src/report/agreement.ts';
import { junitXml, matrixMarkdown } from '../../src/report/matrix.ts';
import type { ScenarioResult, VerdictEntry } from '../../src/report/results.ts';
import type { Evidence } from '../../src/verdict/types.ts';

// Every result below is FAKE, handcrafted for these tests: no stack ran.
const fakeStats = (ops: number, errors: number, p95: number | null) =>
  ({ opsInWindow: ops, errorsInWindow: errors, successRateInWindow: ops ? (ops - errors) / ops : 1, p95MsInWindow: p95 }) as VerdictEntry['stats'];

const fakeVerdict = (capability: string, verdict: VerdictEntry['verdict'], expected: VerdictEntry['expected'], over: Partial<VerdictEntry> = {}): VerdictEntry => ({
  platform: 'mlflow', capability, verdict, expected,
  judgement: verdict === expected ? 'as-expected' : verdict === 'silent' ? 'new-silent' : 'mismatch',
  ttdMs: null, ttrMs: null, evidence: [], stats: fakeStats(40, 0, 12), ...over,
});

const fakeResult = (scenario: string, repeat: number | undefined, verdicts: VerdictEntry[], error?: string): ScenarioResult => ({
  scenario, file: `scenarios/${scenario}.yaml`, target: 'local', versions: {}, client: { maxRetries: 0, backoffFactor: 0, timeoutSeconds: 5, venv: 'mlflow3' } as ScenarioResult['client'],
  fault: null, ledgerFindings: 0, durationMs: 1000, verdicts, ...(repeat !== undefined ? { repeat } : {}), ...(error ? { error } : {}),
});

const fakeHang: Evidence = { rule: 'hang', op: 'log_metric', detail: 'fake: no answer within 30000 ms' };
const fakeDegraded: Evidence = { rule: 'degraded', detail: 'fake: success 50% (budget 95%), p95 2100 ms' };

// A fake run of 3 repetitions of two scenarios: 'fake-db-outage' flips on mlflow.tracking, the rest agree.
const fakeRun: ScenarioResult[] = [
  fakeResult('fake-db-outage', 1, [fakeVerdict('mlflow.serving', 'resilient', 'resilient'), fakeVerdict('mlflow.tracking', 'observable', 'observable', { evidence: [fakeDegraded], stats: fakeStats(42, 21, 2100), ttdMs: 1200, ttrMs: 3400 })]),
  fakeResult('fake-db-outage', 2, [fakeVerdict('mlflow.serving', 'resilient', 'resilient'), fakeVerdict('mlflow.tracking', 'silent', 'observable', { evidence: [fakeHang, fakeDegraded, fakeHang, fakeHang], stats: fakeStats(12, 5, 30000) })]),
  fakeResult('fake-db-outage', 3, [fakeVerdict('mlflow.serving', 'resilient', 'resilient'), fakeVerdict('mlflow.tracking', 'observable', 'observable', { stats: fakeStats(40, 18, 1900) })]),
  fakeResult('fake-baseline', 1, [fakeVerdict('mlflow.tracking', 'resilient', 'resilient')]),
  fakeResult('fake-baseline', 2, [fakeVerdict('mlflow.tracking', 'resilient', 'resilient')]),
  fakeResult('fake-baseline', 3, [fakeVerdict('mlflow.tracking', 'resilient', 'resilient')]),
];

test.describe('agreement of repeated runs (fake results)', () => {
  test('one cell per scenario × capability with each run\'s verdict; a flip is found, agreeing cells are not', () => {
    const a = agreement(fakeRun);
    expect(a.repeats).toBe(3);
    expect(a.cells.map((c) => [c.scenario, c.capability, c.status, c.runs.map((r) => r.verdict)])).toEqual([
      ['fake-db-outage', 'mlflow.serving', 'agree', ['resilient', 'resilient', 'resilient']],
      ['fake-db-outage', 'mlflow.tracking', 'flip', ['observable', 'silent', 'observable']],
      ['fake-baseline', 'mlflow.tracking', 'agree', ['resilient', 'resilient', 'resilient']],
    ]);
    expect(a.flips.map((c) => `${c.scenario}/${c.capability}`)).toEqual(['fake-db-outage/mlflow.tracking']);
    expect(flipFailures(a)).toEqual(['fake-db-outage/mlflow.tracking: the verdict flipped across 3 repetitions (#1 observable, #2 silent, #3 observable)']);
  });

  test('a flipped cell keeps every run\'s own evidence and stats, never averaged', () => {
    const cell = agreement(fakeRun).flips[0]!;
    expect(cell.runs.map((r) => r.stats?.opsInWindow)).toEqual([42, 12, 40]);
    expect(cell.runs[1]!.evidence).toEqual([fakeHang, fakeDegraded, fakeHang, fakeHang]);
    const md = agreementMarkdown(agreement(fakeRun), { date: 'fake-date', condition: 'one core busy (stress-ng --cpu 1)' });
    expect(md).toContain('| fake-db-outage | mlflow.tracking | observable | observable | silent ✗ | observable | **FLIP** |');
    expect(md).toContain('| fake-baseline | mlflow.tracking | resilient | resilient | resilient | resilient | yes |');
    expect(md).toContain('condition: one core busy (stress-ng --cpu 1)');
    expect(md).toContain('- **#1: observable** — 42 ops in window, success 50% (21 failed), p95 2100 ms; TTD 1.2s, TTR 3.4s');
    expect(md).toContain('- **#2: silent** ✗ — 12 ops in window, success 58% (5 failed), p95 30000 ms; TTD –, TTR –');
    expect(md).toContain('  - hang [log_metric]: fake: no answer within 30000 ms');
    expect(md).toContain('  - … 1 more in results.json');
    expect(md).toContain('- **#3: observable** — 40 ops in window, success 55% (18 failed), p95 1900 ms');
    expect(md).toContain('  - no evidence: the capability kept its steady state');
    // Nothing mixes the runs: no mean of the three success rates (54%) appears.
    expect(md).not.toContain('54%');
    const summary = agreementSummary(agreement(fakeRun));
    expect(summary).toContain('agreement over 3 repetitions: 2/3 cells without a flip');
    expect(summary).toContain('FLIP fake-db-outage/mlflow.tracking: #1 observable, #2 silent, #3 observable');
    expect(summary).toContain('#2 silent: 12 ops in window, success 58% (5 failed), p95 30000 ms');
  });

  test('no flip: every cell agrees, and the markdown says so', () => {
    const a = agreement(fakeRun.filter((r) => r.scenario === 'fake-baseline'));
    expect(a.flips).toEqual([]);
    expect(flipFailures(a)).toEqual([]);
    expect(agreementMarkdown(a)).toContain('No cell flipped');
  });

  test('an errored repetition is no verdict: the others agreeing makes the cell incomplete, not a flip', () => {
    const run = [
      fakeResult('fake-s3-outage', 1, [fakeVerdict('mlflow.artifacts', 'observable', 'observable')]),
      fakeResult('fake-s3-outage', 2, [], 'fake: timed out waiting for steady state'),
      fakeResult('fake-s3-outage', 3, [fakeVerdict('mlflow.artifacts', 'observable', 'observable')]),
    ];
    const a = agreement(run);
    expect(a.cells.map((c) => c.status)).toEqual(['incomplete']);
    expect(a.cells[0]!.runs[1]).toMatchObject({ repeat: 2, verdict: null, missing: 'errored: fake: timed out waiting for steady state' });
    expect(agreementMarkdown(a)).toContain('| fake-s3-outage | mlflow.artifacts | observable | observable | errored | observable | incomplete |');
    // Two different verdicts around an errored run are still a flip.
    const flipped = agreement([...run.slice(0, 2), fakeResult('fake-s3-outage', 3, [fakeVerdict('mlflow.artifacts', 'silent', 'observable')])]);
    expect(flipped.cells[0]!.status).toBe('flip');
  });

  test('unobserved is a verdict like any other: it flips against a judged run', () => {
    const a = agreement([
      fakeResult('fake-ui', 1, [fakeVerdict('mlflow.ui', 'observable', 'observable')]),
      fakeResult('fake-ui', 2, [fakeVerdict('mlflow.ui', 'unobserved', 'observable', { stats: fakeStats(1, 0, 10) })]),
    ]);
    expect(a.flips).toHaveLength(1);
  });
});

test.describe('the other reports with repeated scenario names (fake results)', () => {
  test('the matrix gets a row per repetition and JUnit a testcase per repetition', () => {
    const rows = fakeRun.map(repetitionLabel);
    const md = matrixMarkdown(rows, { date: 'fake-date', versions: {}, condition: 'one core busy (stress-ng --cpu 1)' });
    expect(md.split('\n')[0]).toContain('condition: one core busy (stress-ng --cpu 1)');
    for (const k of [1, 2, 3]) expect(md).toContain(`| fake-db-outage #${k} | none |`);
    const xml = junitXml(rows);
    expect(xml).toContain('tests="9"');
    expect(xml).toContain('name="fake-db-outage #2 › mlflow.tracking"');
    const testcaseNames = [...xml.matchAll(/<testcase [^>]* name="([^"]+)"/g)].map((m) => m[1]);
    expect(testcaseNames).toHaveLength(9);
    expect(new Set(testcaseNames).size).toBe(9);
  });

  test('a run without --repeat keeps its plain names', () => {
    const single = fakeResult('fake-baseline', undefined, [fakeVerdict('mlflow.tracking', 'resilient', 'resilient')]);
    expect(repetitionLabel(single)).toBe(single);
    expect(agreement([single]).cells[0]!.runs[0]!.repeat).toBe(1);
  });
});
