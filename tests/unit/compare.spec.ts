import { test, expect } from '@playwright/test';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.ts';
import { compare, compareMarkdown, regressions, type LoadedRun } from '../../src/report/compare.ts';
import { history, historyMarkdown } from '../../src/report/history.ts';
import type { ScenarioResult, VerdictEntry } from '../../src/report/results.ts';
import type { Evidence } from '../../src/verdict/types.ts';

// Every result below is FAKE, handcrafted for these tests: no stack ran.
const fakeStats = (ops: number, errors: number, p95: number | null): VerdictEntry['stats'] => ({
  opsInWindow: ops, errorsInWindow: errors, successRateInWindow: ops ? (ops - errors) / ops : 1, p95MsInWindow: p95,
  minOpsInWindow: 3, steadyMedianMs: 10, p95BudgetMs: 2000, p95Basis: 'fake: absolute',
});

const fakeVerdict = (capability: string, verdict: VerdictEntry['verdict'], expected: VerdictEntry['expected'], over: Partial<VerdictEntry> = {}): VerdictEntry => ({
  platform: 'mlflow', capability, verdict, expected,
  judgement: verdict === expected ? 'as-expected' : verdict === 'silent' ? 'new-silent' : 'mismatch',
  ttdMs: null, ttrMs: null, evidence: [], stats: fakeStats(40, 0, 12), ...over,
});

const fakeResult = (scenario: string, verdicts: VerdictEntry[], over: Partial<ScenarioResult> = {}): ScenarioResult => ({
  scenario, file: `scenarios/${scenario}.yaml`, target: 'local', versions: { mlflow: 'fake-3.0' }, client: { maxRetries: 0, backoffFactor: 0, timeoutSeconds: 5, venv: 'mlflow3' } as ScenarioResult['client'],
  fault: null, ledgerFindings: 0, durationMs: 1000, verdicts, ...over,
});

const fakeRun = (label: string, results: ScenarioResult[]): LoadedRun => ({ file: `fake/${label}/results.json`, dir: `fake/${label}`, label, results });

const fakeHang: Evidence = { rule: 'hang', op: 'log_metric', detail: 'fake: no answer within 30000 ms' };
const fakeDegraded: Evidence = { rule: 'degraded', detail: 'fake: success 50% (budget 99%)' };
const fakeKnown = 'https://example.invalid/fake-upstream-issue/1';

/** A fake observable cell whose TTR is `ttrMs`, as one repetition (`repeat`) or a plain run. */
const fakeObservable = (ttrMs: number, repeat?: number) =>
  fakeResult('fake-db-outage', [fakeVerdict('mlflow.tracking', 'observable', 'observable', { ttdMs: 800, ttrMs, evidence: [fakeDegraded], stats: fakeStats(40, 20, 900) })], repeat === undefined ? {} : { repeat });

// A fake night: a baseline and a database outage, as the nightly run would give them.
const fakeNight = (): ScenarioResult[] => [
  fakeResult('fake-baseline', [fakeVerdict('mlflow.tracking', 'resilient', 'resilient'), fakeVerdict('mlflow.serving', 'resilient', 'resilient')]),
  fakeObservable(3000),
  fakeResult('fake-s3-outage', [fakeVerdict('mlflow.artifacts', 'silent', 'silent', { known: fakeKnown, evidence: [{ rule: 'lying-health', detail: 'fake: /health 200 while uploads failed' }] })]),
];

/** The fake night with one cell replaced. */
function withCell(scenario: string, v: VerdictEntry): ScenarioResult[] {
  return fakeNight().map((r) => (r.scenario === scenario ? { ...r, verdicts: r.verdicts.map((x) => (x.capability === v.capability ? v : x)) } : r));
}

const cellOf = (c: ReturnType<typeof compare>, scenario: string, capability: string) => c.cells.find((x) => x.scenario === scenario && x.capability === capability)!;

test.describe('compare two runs (fake results)', () => {
  test('the same results: every cell unchanged, no regression, exit 0, the three files written', async () => {
    const c = compare(fakeRun('fake-old', fakeNight()), fakeRun('fake-new', fakeNight()));
    expect(c.cells.map((x) => x.kind)).toEqual(['same', 'same', 'same', 'same']);
    expect(regressions(c)).toEqual([]);
    expect(c.onlyIn).toEqual([]);
    const md = compareMarkdown(c);
    expect(md).toContain('0 regressions; 0 fixes; 0 possible upstream fixes; 0 other verdict changes');
    expect(md).toContain('4 unchanged');
    expect(md).toContain('No cell both runs judged changed beyond noise.');

    const dir = mkdtempSync(join(tmpdir(), 'compare-unit-'));
    try {
      for (const side of ['old', 'new']) {
        mkdirSync(join(dir, side));
        writeFileSync(join(dir, side, 'results.json'), JSON.stringify(fakeNight()));
      }
      // A run directory and a results.json file are both accepted; by default the files land in NEW's directory.
      expect(await main(['compare', join(dir, 'old'), join(dir, 'new', 'results.json')])).toBe(0);
      for (const f of ['compare.md', 'compare.html', 'compare.json']) expect(existsSync(join(dir, 'new', f)), `${f} in NEW's directory`).toBe(true);
      expect(readFileSync(join(dir, 'new', 'compare.md'), 'utf8')).toContain('# old → new');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('resilient → silent is a regression, with the rule that fired; the command exits 1', async () => {
    const newer = withCell('fake-baseline', fakeVerdict('mlflow.serving', 'silent', 'resilient', { evidence: [fakeHang] }));
    const c = compare(fakeRun('fake-old', fakeNight()), fakeRun('fake-new', newer));
    const cell = cellOf(c, 'fake-baseline', 'mlflow.serving');
    expect(cell.kind).toBe('regression');
    expect(cell.rules).toEqual({ added: ['hang'], removed: [] });
    expect(regressions(c)).toEqual(['fake-baseline/mlflow.serving: resilient → silent']);
    expect(compareMarkdown(c)).toContain('| **REGRESSION** | fake-baseline | mlflow.serving | resilient | resilient | silent | +hang | – |');
    expect(compareMarkdown(c)).toContain('  - hang [log_metric]: fake: no answer within 30000 ms');

    const dir = mkdtempSync(join(tmpdir(), 'compare-unit-'));
    try {
      writeFileSync(join(dir, 'old.json'), JSON.stringify(fakeNight()));
      writeFileSync(join(dir, 'new.json'), JSON.stringify(newer));
      expect(await main(['compare', join(dir, 'old.json'), join(dir, 'new.json'), '--out', join(dir, 'out')])).toBe(1);
      expect(existsSync(join(dir, 'out', 'compare.md'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an expected-silent cell that now passes is a possible upstream fix, not a regression', () => {
    const newer = withCell('fake-s3-outage', fakeVerdict('mlflow.artifacts', 'resilient', 'silent', { known: fakeKnown, judgement: 'unexpected-pass' }));
    const c = compare(fakeRun('fake-old', fakeNight()), fakeRun('fake-new', newer));
    const cell = cellOf(c, 'fake-s3-outage', 'mlflow.artifacts');
    expect(cell.kind).toBe('possible-upstream-fix');
    expect(cell.known).toBe(fakeKnown);
    expect(cell.rules).toEqual({ added: [], removed: ['lying-health'] });
    expect(regressions(c)).toEqual([]);
    // Without a known upstream behaviour, silent → observable is a plain fix.
    const unknown = fakeNight().map((r) => ({ ...r, verdicts: r.verdicts.map(({ known: _, ...v }) => v) }));
    const plain = compare(fakeRun('fake-old', unknown), fakeRun('fake-new', withCell('fake-s3-outage', fakeVerdict('mlflow.artifacts', 'observable', 'silent'))));
    expect(cellOf(plain, 'fake-s3-outage', 'mlflow.artifacts').kind).toBe('fix');
  });

  test('resilient ↔ observable is a change, and says which way', () => {
    const newer = withCell('fake-baseline', fakeVerdict('mlflow.tracking', 'observable', 'resilient', { evidence: [fakeDegraded] }));
    const worse = cellOf(compare(fakeRun('fake-old', fakeNight()), fakeRun('fake-new', newer)), 'fake-baseline', 'mlflow.tracking');
    expect([worse.kind, worse.direction]).toEqual(['change', 'degraded']);
    const better = cellOf(compare(fakeRun('fake-old', newer), fakeRun('fake-new', fakeNight())), 'fake-baseline', 'mlflow.tracking');
    expect([better.kind, better.direction]).toEqual(['change', 'improved']);
  });

  test('unobserved in NEW is a regression', () => {
    const newer = withCell('fake-db-outage', fakeVerdict('mlflow.tracking', 'unobserved', 'observable', { evidence: [{ rule: 'unobserved', detail: 'fake: 1 op in the window' }], stats: fakeStats(1, 0, 10) }));
    const c = compare(fakeRun('fake-old', fakeNight()), fakeRun('fake-new', newer));
    expect(cellOf(c, 'fake-db-outage', 'mlflow.tracking').kind).toBe('regression');
    expect(regressions(c)).toEqual(['fake-db-outage/mlflow.tracking: observable → unobserved']);
  });

  test('single runs: a TTR change within the fixed noise rule is not reported, one beyond it is', () => {
    const night = (ttrMs: number) => fakeNight().map((r) => (r.scenario === 'fake-db-outage' ? fakeObservable(ttrMs) : r));
    // 3.0 s → 5.0 s: less than 2×.
    const within = cellOf(compare(fakeRun('fake-old', night(3000)), fakeRun('fake-new', night(5000))), 'fake-db-outage', 'mlflow.tracking');
    expect(within.measures).toEqual([]);
    // 300 ms → 900 ms: 3×, but less than a second.
    expect(cellOf(compare(fakeRun('fake-old', night(300)), fakeRun('fake-new', night(900))), 'fake-db-outage', 'mlflow.tracking').measures).toEqual([]);
    // 3.0 s → 9.0 s: 3× and 6 s.
    const c = compare(fakeRun('fake-old', night(3000)), fakeRun('fake-new', night(9000)));
    const beyond = cellOf(c, 'fake-db-outage', 'mlflow.tracking');
    expect(beyond.kind).toBe('same');
    expect(beyond.measures).toMatchObject([{ measure: 'ttr', old: [3000], new: [9000], basis: 'single runs: moved by more than 2× and more than 1 s' }]);
    expect(regressions(c)).toEqual([]);
    const md = compareMarkdown(c);
    expect(md).toContain('| same verdict | fake-db-outage | mlflow.tracking | observable | observable | observable | – | TTR 3.0s → 9.0s |');
    expect(md).toContain('Noise: One run a side: a time (TTD, TTR, p95 in the fault window) counts as changed when it moved by more than 2× and by more than 1 s; a success rate when it moved by more than 10 points.');
  });

  test('repetitions: each side\'s spread is the noise, every repetition kept', () => {
    // OLD repeated with a wide spread (1.0–3.0 s): NEW's 3.5 s is inside its widened band, though the single-run rule would count it (1.5 s median → 3.5 s).
    const wideOld = [fakeObservable(1000, 1), fakeObservable(3000, 2), fakeObservable(1500, 3)];
    const noisy = cellOf(compare(fakeRun('fake-old', wideOld), fakeRun('fake-new', [fakeObservable(3500)])), 'fake-db-outage', 'mlflow.tracking');
    expect(noisy.measures).toEqual([]);
    expect(noisy.old.runs.map((r) => r.ttrMs)).toEqual([1000, 3000, 1500]);
    // Both sides tight: 1.1 s → 2.2 s is only 2× (the single-run rule would not count it) but far outside both bands.
    const tightOld = [fakeObservable(1000, 1), fakeObservable(1100, 2), fakeObservable(1200, 3)];
    const tightNew = [fakeObservable(2100, 1), fakeObservable(2200, 2), fakeObservable(2300, 3)];
    const moved = cellOf(compare(fakeRun('fake-old', tightOld), fakeRun('fake-new', tightNew)), 'fake-db-outage', 'mlflow.tracking');
    expect(moved.measures).toHaveLength(1);
    expect(moved.measures[0]).toMatchObject({ measure: 'ttr', old: [1000, 1100, 1200], new: [2100, 2200, 2300], oldMedian: 1100, newMedian: 2200 });
    expect(moved.measures[0]!.basis).toBe("NEW median 2.2s outside OLD's 1.0s–1.2s over 3 runs, widened to 0.5s–1.7s; OLD median 1.1s outside NEW's 2.1s–2.3s over 3 runs, widened to 1.6s–2.9s");
    // A repetition that went silent is a regression even when the others agree with OLD.
    const oneSilent = [fakeObservable(1000, 1), fakeResult('fake-db-outage', [fakeVerdict('mlflow.tracking', 'silent', 'observable', { evidence: [fakeHang] })], { repeat: 2 })];
    const c = compare(fakeRun('fake-old', tightOld), fakeRun('fake-new', oneSilent));
    expect(regressions(c)).toEqual(['fake-db-outage/mlflow.tracking: observable (3/3) → observable 1/2, silent 1/2']);
    expect(compareMarkdown(c)).toContain('- **NEW #2: silent** — 40 ops in window, success 100% (0 failed), p95 12 ms; TTD –, TTR –');
  });

  test('cells in one run only and errored experiments are listed; a new unexpected silent cell is a regression', () => {
    const newer = [
      ...fakeNight().filter((r) => r.scenario !== 'fake-s3-outage'),
      fakeResult('fake-s3-outage', [], { error: 'fake: timed out waiting for steady state' }),
      fakeResult('fake-new-scenario', [fakeVerdict('mlflow.registry', 'silent', 'observable', { evidence: [fakeHang] })]),
    ];
    const c = compare(fakeRun('fake-old', fakeNight()), fakeRun('fake-new', newer));
    expect(c.onlyIn.map((x) => [x.side, x.scenario, x.capability, x.why, x.regression])).toEqual([
      ['NEW', 'fake-new-scenario', 'mlflow.registry', 'scenario not in OLD', true],
      ['OLD', 'fake-s3-outage', 'mlflow.artifacts', 'experiment errored in NEW', false],
    ]);
    expect(c.errored).toEqual([{ side: 'NEW', scenario: 'fake-s3-outage', error: 'fake: timed out waiting for steady state' }]);
    expect(compareMarkdown(c)).toContain('- NEW fake-s3-outage: fake: timed out waiting for steady state');
  });

  test('bad input exits 2 and names the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'compare-unit-'));
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => errors.push(s) > 0) as typeof process.stderr.write;
    try {
      writeFileSync(join(dir, 'good.json'), JSON.stringify(fakeNight()));
      writeFileSync(join(dir, 'matrix.md'), '| not | json |');
      writeFileSync(join(dir, 'other.json'), JSON.stringify({ scenario: 'fake' }));
      expect(await main(['compare', join(dir, 'missing'), join(dir, 'good.json')])).toBe(2);
      expect(await main(['compare', join(dir, 'good.json'), join(dir, 'matrix.md')])).toBe(2);
      expect(await main(['compare', join(dir, 'other.json'), join(dir, 'good.json')])).toBe(2);
      expect(await main(['compare', dir, join(dir, 'good.json')])).toBe(2);
      expect(await main(['compare', join(dir, 'good.json')])).toBe(2);
    } finally {
      process.stderr.write = write;
      rmSync(dir, { recursive: true, force: true });
    }
    expect(errors[0]).toContain(`${join(dir, 'missing')}: no such file or directory`);
    expect(errors[1]).toContain(`${join(dir, 'matrix.md')} is not a results.json: not JSON`);
    expect(errors[2]).toContain(`${join(dir, 'other.json')} is not a results.json: an array of scenario results was expected`);
    expect(errors[3]).toContain(`${dir} is a directory without a results.json`);
    expect(errors[4]).toContain('compare needs OLD and NEW');
  });
});

test.describe('flakiness across history (fake results)', () => {
  test('flip rate per cell, each flip with both runs\' own evidence', () => {
    const nights = [3000, 3000, 3000, 3000].map((ttr, i) => fakeRun(`fake-night-${i + 1}`, fakeNight().map((r) => (r.scenario === 'fake-db-outage' ? fakeObservable(ttr) : r))));
    // Night 2 hangs, night 3 is back to observable: two flips in three steps.
    nights[1] = fakeRun('fake-night-2', withCell('fake-db-outage', fakeVerdict('mlflow.tracking', 'silent', 'observable', { evidence: [fakeHang], stats: fakeStats(12, 5, 30000) })));
    const cells = history(nights);
    const tracking = cells.find((c) => c.scenario === 'fake-db-outage')!;
    expect(tracking.flipRate).toBeCloseTo(2 / 3);
    expect(tracking.flips.map((f) => `${f.from.label}→${f.to.label}`)).toEqual(['fake-night-1→fake-night-2', 'fake-night-2→fake-night-3']);
    expect(cells.filter((c) => c !== tracking).map((c) => c.flipRate)).toEqual([0, 0, 0]);
    const labels = nights.map((n) => n.label);
    const md = historyMarkdown(cells, labels);
    expect(md).toContain('| fake-db-outage | mlflow.tracking | 4 | 2 | 0.67 | O S O O |');
    expect(md).toContain('#### fake-night-1 → fake-night-2: observable → silent');
    expect(md).toContain('- **fake-night-2: silent** — 12 ops in window, success 58% (5 failed), p95 30000 ms; TTD –, TTR –');
    expect(md).toContain('  - hang [log_metric]: fake: no answer within 30000 ms');
    expect(md).toContain('- **fake-night-1: observable** — 40 ops in window, success 50% (20 failed), p95 900 ms; TTD 0.8s, TTR 3.0s');
  });
});
