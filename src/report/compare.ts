import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Verdict } from '../verdict/types.ts';
import { agreement, EVIDENCE_PER_RUN, mdSafe, statsText, type Agreement, type AgreementCell, type CellRun } from './agreement.ts';
import { esc } from './matrix.ts';
import type { ScenarioResult, VerdictEntry } from './results.ts';

/**
 * Two chaos runs compared cell by cell (scenario × capability): the nightly run against the
 * previous night, or a platform before and after an upgrade. A side that ran each scenario
 * several times (`--repeat N`) keeps every repetition: its verdicts are a set, its spread is
 * the noise a measure must exceed to count as changed, and its evidence is shown run by run.
 */

/** A path that is not a results.json (or a run directory holding one): exit 2, naming it. */
export class ResultsInputError extends Error {}

export interface LoadedRun {
  /** The results.json read. */
  file: string;
  /** Its directory: where the reports of that run are. */
  dir: string;
  /** The run's name as people know it: its directory under reports/. */
  label: string;
  results: ScenarioResult[];
}

const VERDICTS: readonly Verdict[] = ['resilient', 'observable', 'silent', 'unobserved'];

/** Why `data` is not a results.json, or undefined when it is one. */
function resultsProblem(data: unknown): string | undefined {
  if (!Array.isArray(data)) return 'an array of scenario results was expected';
  if (data.length === 0) return 'it holds no scenario results';
  for (const [i, r] of data.entries()) {
    if (typeof r !== 'object' || r === null) return `entry ${i} is not an object`;
    const { scenario, verdicts } = r as Record<string, unknown>;
    if (typeof scenario !== 'string') return `entry ${i} has no scenario name`;
    if (!Array.isArray(verdicts)) return `entry ${i} (${scenario}) has no verdicts list`;
    for (const v of verdicts as unknown[]) {
      const { capability, verdict, evidence, stats } = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
      if (typeof capability !== 'string' || !VERDICTS.includes(verdict as Verdict) || !Array.isArray(evidence) || typeof stats !== 'object') {
        return `a verdict of ${scenario} lacks a capability, a verdict (${VERDICTS.join(' | ')}), evidence or stats`;
      }
    }
  }
  return undefined;
}

/** Reads a results.json, or the one in a run directory; anything else is a ResultsInputError naming the path. */
export function loadRun(path: string): LoadedRun {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new ResultsInputError(`${path}: no such file or directory`);
  const file = statSync(abs).isDirectory() ? join(abs, 'results.json') : abs;
  if (!existsSync(file)) throw new ResultsInputError(`${path} is a directory without a results.json`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new ResultsInputError(`${file} is not a results.json: not JSON (${err.message})`);
  }
  const problem = resultsProblem(data);
  if (problem) throw new ResultsInputError(`${file} is not a results.json: ${problem}`);
  const dir = dirname(file);
  return { file, dir, label: basename(file) === 'results.json' ? basename(dir) : basename(file), results: data as ScenarioResult[] };
}

// --- verdicts -----------------------------------------------------------------------------

/**
 * `regression`: the new run shows a silent or unobserved verdict the old one never showed.
 * `fix`: the old run was silent (in some repetition), the new one never is.
 * `possible-upstream-fix`: a fix of a known (expected) silent behaviour: look upstream.
 * `change`: the verdicts differ otherwise (resilient ↔ observable, unobserved → judged, a flip that settled).
 */
export type ChangeKind = 'regression' | 'fix' | 'possible-upstream-fix' | 'change' | 'same';
export type Direction = 'improved' | 'degraded' | 'mixed';

/** Higher is better; `unobserved` sits above `silent` only because nothing was found, not because anything worked. */
const RANK: Record<Verdict, number> = { resilient: 3, observable: 2, unobserved: 1, silent: 0 };
const ALARMING: readonly Verdict[] = ['silent', 'unobserved'];

/** The verdicts of each repetition that gave one, on either side, decide the kind; `known` = the cell was expected silent. */
function classify(oldV: readonly Verdict[], newV: readonly Verdict[], known: string | undefined): { kind: ChangeKind; direction?: Direction } {
  const o = new Set(oldV);
  const n = new Set(newV);
  if (ALARMING.some((v) => n.has(v) && !o.has(v))) return { kind: 'regression' };
  if (o.has('silent') && !n.has('silent')) return { kind: known ? 'possible-upstream-fix' : 'fix' };
  if (o.size === n.size && [...o].every((v) => n.has(v))) return { kind: 'same' };
  return { kind: 'change', direction: direction(o, n) };
}

/** How the worst and the best verdict of the set moved: resilient → observable degraded, a flip that settled on its better verdict improved. */
function direction(o: Set<Verdict>, n: Set<Verdict>): Direction {
  const ranks = (s: Set<Verdict>) => [...s].map((v) => RANK[v]);
  const [oWorst, nWorst, oBest, nBest] = [Math.min(...ranks(o)), Math.min(...ranks(n)), Math.max(...ranks(o)), Math.max(...ranks(n))];
  const worst = Math.sign(nWorst - oWorst);
  const best = Math.sign(nBest - oBest);
  // Opposite moves, or the same extremes with other verdicts in between.
  if (worst + best === 0) return 'mixed';
  return worst + best > 0 ? 'improved' : 'degraded';
}

/** `observable`, `observable (3/3)`, or `observable 2/3, silent 1/3`: every repetition counted, none hidden. */
export function verdictText(vs: readonly Verdict[]): string {
  if (vs.length === 0) return 'no verdict';
  if (vs.length === 1) return vs[0]!;
  const counts = new Map<Verdict, number>();
  for (const v of vs) counts.set(v, (counts.get(v) ?? 0) + 1);
  if (counts.size === 1) return `${vs[0]} (${vs.length}/${vs.length})`;
  return [...counts].map(([v, k]) => `${v} ${k}/${vs.length}`).join(', ');
}

// --- measures and noise --------------------------------------------------------------------

export type MeasureKey = 'ttd' | 'ttr' | 'successRate' | 'p95';

interface MeasureDef {
  key: MeasureKey;
  label: string;
  kind: 'time' | 'rate';
  of: (r: CellRun) => number | null;
}

const MEASURES: readonly MeasureDef[] = [
  { key: 'ttd', label: 'TTD', kind: 'time', of: (r) => r.ttdMs ?? null },
  { key: 'ttr', label: 'TTR', kind: 'time', of: (r) => r.ttrMs ?? null },
  { key: 'successRate', label: 'success rate', kind: 'rate', of: (r) => r.stats?.successRateInWindow ?? null },
  { key: 'p95', label: 'p95', kind: 'time', of: (r) => r.stats?.p95MsInWindow ?? null },
];

/**
 * Run-to-run noise. One run a side says nothing about spread, so a fixed rule: a time must at
 * least double (or halve) and move by more than a second, a success rate by more than 10 points
 * (a window holds tens of ops, so one op is a few points). With repetitions, the side's own
 * min–max is the noise, widened because three runs rarely show the whole spread.
 */
const NOISE = {
  single: { timeFactor: 2, timeMinMs: 1000, ratePoints: 0.1 },
  repeated: { timeWiden: 0.25, timeWidenMinMs: 500, ratePoints: 0.05 },
} as const;

const NOISE_RULE = [
  `One run a side: a time (TTD, TTR, p95 in the fault window) counts as changed when it moved by more than ${NOISE.single.timeFactor}× and by more than ${NOISE.single.timeMinMs / 1000} s; a success rate when it moved by more than ${NOISE.single.ratePoints * 100} points.`,
  `Repetitions on a side (--repeat N): that side's spread is the noise. A change counts when the other side's median lies outside this side's min–max widened by ${NOISE.repeated.timeWiden * 100}% (at least ${NOISE.repeated.timeWidenMinMs / 1000} s) for times, by ${NOISE.repeated.ratePoints * 100} points for the success rate; with repetitions on both sides, both must hold.`,
  'A measure present on one side only (no TTR because nothing failed, no p95 because nothing succeeded) is not compared: the verdict and the evidence say that.',
];

export interface MeasureChange {
  measure: MeasureKey;
  label: string;
  /** Every repetition's value, never averaged; the medians only place each side. */
  old: number[];
  new: number[];
  oldMedian: number;
  newMedian: number;
  /** Which noise rule it exceeded, with its numbers. */
  basis: string;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const show = (def: Pick<MeasureDef, 'key' | 'kind'>, x: number): string =>
  def.kind === 'rate' ? `${(x * 100).toFixed(0)}%` : def.key === 'p95' ? `${Math.round(x)} ms` : `${(x / 1000).toFixed(1)}s`;

/** A side's min–max widened by the repeated-run margin. */
function band(def: MeasureDef, xs: readonly number[]): [number, number] {
  const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
  const r = NOISE.repeated;
  if (def.kind === 'rate') return [lo - r.ratePoints, hi + r.ratePoints];
  return [lo - Math.max(lo * r.timeWiden, r.timeWidenMinMs), hi + Math.max(hi * r.timeWiden, r.timeWidenMinMs)];
}

/** The change of one measure when it exceeds the noise (see NOISE_RULE), else undefined. */
function measureChange(def: MeasureDef, oldRuns: readonly CellRun[], newRuns: readonly CellRun[]): MeasureChange | undefined {
  const values = (runs: readonly CellRun[]) => runs.flatMap((r) => (r.verdict === null ? [] : [def.of(r)])).filter((x): x is number => x !== null);
  const [o, n] = [values(oldRuns), values(newRuns)];
  if (o.length === 0 || n.length === 0) return undefined;
  const [oMed, nMed] = [median(o), median(n)];
  const change = (basis: string): MeasureChange => ({ measure: def.key, label: def.label, old: o, new: n, oldMedian: oMed, newMedian: nMed, basis });
  if (o.length === 1 && n.length === 1) {
    const s = NOISE.single;
    if (def.kind === 'rate') return Math.abs(nMed - oMed) > s.ratePoints ? change(`single runs: moved by more than ${s.ratePoints * 100} points`) : undefined;
    const beyond = Math.max(oMed, nMed) > s.timeFactor * Math.min(oMed, nMed) && Math.abs(nMed - oMed) > s.timeMinMs;
    return beyond ? change(`single runs: moved by more than ${s.timeFactor}× and more than ${s.timeMinMs / 1000} s`) : undefined;
  }
  // Each repeated side's band must exclude the other side's median.
  const checks = [
    ...(o.length > 1 ? [{ side: 'OLD', other: 'NEW', b: band(def, o), m: nMed, raw: o }] : []),
    ...(n.length > 1 ? [{ side: 'NEW', other: 'OLD', b: band(def, n), m: oMed, raw: n }] : []),
  ];
  if (!checks.every((c) => c.m < c.b[0] || c.m > c.b[1])) return undefined;
  return change(checks.map((c) => `${c.other} median ${show(def, c.m)} outside ${c.side}'s ${show(def, Math.min(...c.raw))}–${show(def, Math.max(...c.raw))} over ${c.raw.length} runs, widened to ${show(def, c.b[0])}–${show(def, c.b[1])}`).join('; '));
}

// --- the comparison ------------------------------------------------------------------------

export interface Side {
  /** One per repetition that gave a verdict, in repetition order. */
  verdicts: Verdict[];
  /** Every repetition as it was, with its own evidence and stats. */
  runs: CellRun[];
}

export interface CellComparison {
  scenario: string;
  capability: string;
  expected: VerdictEntry['expected'];
  /** The upstream link of an expected-silent cell. */
  known?: string;
  kind: ChangeKind;
  direction?: Direction;
  old: Side;
  new: Side;
  /** Evidence rules that fired in some repetition of one side and in none of the other. */
  rules: { added: string[]; removed: string[] };
  measures: MeasureChange[];
}

/** A cell one run has and the other has not. */
export interface OneSidedCell {
  side: 'OLD' | 'NEW';
  scenario: string;
  capability: string;
  why: string;
  verdicts: Verdict[];
  /** A NEW-only cell that is silent against its expectation, or unobserved. */
  regression: boolean;
}

export interface ErroredExperiment {
  side: 'OLD' | 'NEW';
  scenario: string;
  repeat?: number;
  error: string;
}

export interface RunSummary {
  file: string;
  label: string;
  scenarios: number;
  cells: number;
  /** The largest number of repetitions of any scenario (1 for a plain run). */
  repeats: number;
  versions: Record<string, string>;
}

export interface Comparison {
  old: RunSummary;
  new: RunSummary;
  noiseRule: string[];
  versionChanges: { component: string; old: string | null; new: string | null }[];
  /** Every cell both runs judged, unchanged ones too. */
  cells: CellComparison[];
  onlyIn: OneSidedCell[];
  errored: ErroredExperiment[];
}

const key = (scenario: string, capability: string) => `${scenario}\u0000${capability}`;

/** What a cell's verdict entries say about it in a run: expectation and upstream link. */
function entriesOf(results: readonly ScenarioResult[]): Map<string, VerdictEntry> {
  const m = new Map<string, VerdictEntry>();
  for (const r of results) for (const v of r.verdicts) if (!m.has(key(r.scenario, v.capability))) m.set(key(r.scenario, v.capability), v);
  return m;
}

const sideOf = (c: AgreementCell): Side => ({ verdicts: c.runs.flatMap((r) => (r.verdict === null ? [] : [r.verdict])), runs: c.runs });
const rulesOf = (s: Side) => new Set(s.runs.flatMap((r) => r.evidence.map((e) => e.rule)));

/** The stack versions of a run (every experiment of a run shares its stack). */
function versionsOf(results: readonly ScenarioResult[]): Record<string, string> {
  return Object.assign({}, ...results.map((r) => r.versions)) as Record<string, string>;
}

function summary(run: LoadedRun, a: Agreement): RunSummary {
  return { file: run.file, label: run.label, scenarios: new Set(run.results.map((r) => r.scenario)).size, cells: a.cells.length, repeats: Math.max(1, a.repeats), versions: versionsOf(run.results) };
}

function compareCell(o: AgreementCell, n: AgreementCell, oldEntry: VerdictEntry | undefined, newEntry: VerdictEntry | undefined): CellComparison {
  const [os, ns] = [sideOf(o), sideOf(n)];
  const known = oldEntry?.known ?? newEntry?.known;
  const [or, nr] = [rulesOf(os), rulesOf(ns)];
  return {
    scenario: n.scenario,
    capability: n.capability,
    expected: n.expected ?? o.expected,
    ...(known ? { known } : {}),
    ...classify(os.verdicts, ns.verdicts, known),
    old: os,
    new: ns,
    rules: { added: [...nr].filter((r) => !or.has(r)).sort(), removed: [...or].filter((r) => !nr.has(r)).sort() },
    measures: MEASURES.map((def) => measureChange(def, o.runs, n.runs)).filter((m): m is MeasureChange => m !== undefined),
  };
}

/** Why a cell is missing from a run: the scenario was not run, errored, or did not report the capability. */
function whyMissing(results: readonly ScenarioResult[], scenario: string, side: 'OLD' | 'NEW'): string {
  const reps = results.filter((r) => r.scenario === scenario);
  if (reps.length === 0) return `scenario not in ${side}`;
  if (reps.every((r) => r.error)) return `experiment errored in ${side}`;
  return `capability not reported in ${side}`;
}

export function compare(oldRun: LoadedRun, newRun: LoadedRun): Comparison {
  const [oa, na] = [agreement(oldRun.results), agreement(newRun.results)];
  const oCells = new Map(oa.cells.map((c) => [key(c.scenario, c.capability), c]));
  const nCells = new Map(na.cells.map((c) => [key(c.scenario, c.capability), c]));
  const [oEntries, nEntries] = [entriesOf(oldRun.results), entriesOf(newRun.results)];
  const cells: CellComparison[] = [];
  const onlyIn: OneSidedCell[] = [];
  for (const [k, n] of nCells) {
    const o = oCells.get(k);
    if (o) {
      cells.push(compareCell(o, n, oEntries.get(k), nEntries.get(k)));
      continue;
    }
    const verdicts = sideOf(n).verdicts;
    // Nothing to compare with: a new cell regresses when the run itself would fail on it for being silent or unjudged.
    const regression = n.runs.some((r) => r.judgement === 'new-silent' || r.verdict === 'unobserved');
    onlyIn.push({ side: 'NEW', scenario: n.scenario, capability: n.capability, why: whyMissing(oldRun.results, n.scenario, 'OLD'), verdicts, regression });
  }
  for (const [k, o] of oCells) {
    if (nCells.has(k)) continue;
    onlyIn.push({ side: 'OLD', scenario: o.scenario, capability: o.capability, why: whyMissing(newRun.results, o.scenario, 'NEW'), verdicts: sideOf(o).verdicts, regression: false });
  }
  const erroredIn = (side: 'OLD' | 'NEW', results: readonly ScenarioResult[]): ErroredExperiment[] =>
    results.flatMap((r) => (r.error ? [{ side, scenario: r.scenario, ...(r.repeat !== undefined ? { repeat: r.repeat } : {}), error: r.error }] : []));
  const [ov, nv] = [versionsOf(oldRun.results), versionsOf(newRun.results)];
  const components = [...new Set([...Object.keys(ov), ...Object.keys(nv)])].sort();
  return {
    old: summary(oldRun, oa),
    new: summary(newRun, na),
    noiseRule: NOISE_RULE,
    versionChanges: components.filter((c) => ov[c] !== nv[c]).map((c) => ({ component: c, old: ov[c] ?? null, new: nv[c] ?? null })),
    cells,
    onlyIn,
    errored: [...erroredIn('OLD', oldRun.results), ...erroredIn('NEW', newRun.results)],
  };
}

/** Cells worth a line: a verdict change, or the same verdict with other rules or a measure beyond noise. */
const listed = (c: CellComparison): boolean => c.kind !== 'same' || c.rules.added.length + c.rules.removed.length + c.measures.length > 0;

/** What makes `compare` exit 1. */
export function regressions(c: Comparison): string[] {
  return [
    ...c.cells.filter((x) => x.kind === 'regression').map((x) => `${x.scenario}/${x.capability}: ${verdictText(x.old.verdicts)} → ${verdictText(x.new.verdicts)}`),
    ...c.onlyIn.filter((x) => x.regression).map((x) => `${x.scenario}/${x.capability}: ${verdictText(x.verdicts)} (new cell, ${x.why})`),
  ];
}

// --- rendering -----------------------------------------------------------------------------

const KIND_ORDER: readonly ChangeKind[] = ['regression', 'fix', 'possible-upstream-fix', 'change', 'same'];
const KIND_TEXT: Record<ChangeKind, string> = { regression: 'REGRESSION', fix: 'fix', 'possible-upstream-fix': 'possible upstream fix', change: 'change', same: 'same verdict' };


function kindText(c: CellComparison): string {
  return c.direction ? `${KIND_TEXT[c.kind]} (${c.direction})` : KIND_TEXT[c.kind];
}

function measureText(m: MeasureChange): string {
  const def = MEASURES.find((d) => d.key === m.measure)!;
  const side = (xs: number[], med: number) => (xs.length === 1 ? show(def, med) : `${show(def, med)} (median of ${xs.map((x) => show(def, x)).join(', ')})`);
  return `${m.label} ${side(m.old, m.oldMedian)} → ${side(m.new, m.newMedian)}`;
}

function rulesText(c: CellComparison): string {
  return [...c.rules.added.map((r) => `+${r}`), ...c.rules.removed.map((r) => `−${r}`)].join(' ') || '–';
}

function sorted(c: Comparison): CellComparison[] {
  return c.cells.filter(listed).sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
}

function counts(c: Comparison): string {
  const n = (k: ChangeKind) => c.cells.filter((x) => x.kind === k).length;
  const plural = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
  const regs = regressions(c).length;
  const measuresOnly = c.cells.filter((x) => x.kind === 'same' && listed(x)).length;
  const old = c.onlyIn.filter((x) => x.side === 'OLD').length;
  return [
    plural(regs, 'regression', 'regressions'),
    plural(n('fix'), 'fix', 'fixes'),
    plural(n('possible-upstream-fix'), 'possible upstream fix', 'possible upstream fixes'),
    plural(n('change'), 'other verdict change', 'other verdict changes'),
    `${measuresOnly} with the same verdict but other evidence rules or measures beyond noise`,
    `${c.cells.length - c.cells.filter(listed).length} unchanged`,
    `${c.onlyIn.length - old} only in NEW, ${old} only in OLD`,
    `errored experiments: ${c.errored.filter((e) => e.side === 'OLD').length} in OLD, ${c.errored.filter((e) => e.side === 'NEW').length} in NEW`,
  ].join('; ');
}

function runLine(r: RunSummary, side: string): string {
  return `${side}: ${r.label} (${r.file}): ${r.scenarios} scenarios, ${r.cells} cells, ${r.repeats === 1 ? 'one run each' : `up to ${r.repeats} repetitions each`}`;
}

/** One side of a cell run by run: verdict, window stats, first evidence items. */
function sideLines(label: string, s: Side): string[] {
  const lines: string[] = [];
  for (const r of s.runs) {
    const name = s.runs.length === 1 ? label : `${label} #${r.repeat}`;
    lines.push(`- **${name}: ${r.verdict ?? 'no verdict'}** — ${mdSafe(statsText(r))}`);
    if (r.verdict !== null && r.evidence.length === 0) lines.push('  - no evidence: the capability kept its steady state');
    for (const e of r.evidence.slice(0, EVIDENCE_PER_RUN)) lines.push(`  - ${e.rule}${e.op ? ` [${e.op}]` : ''}: ${mdSafe(e.detail)}`);
    if (r.evidence.length > EVIDENCE_PER_RUN) lines.push(`  - … ${r.evidence.length - EVIDENCE_PER_RUN} more in results.json`);
  }
  return lines;
}

export function compareMarkdown(c: Comparison): string {
  const rows = sorted(c);
  const lines = [
    `# ${c.old.label} → ${c.new.label}`,
    '',
    `- ${runLine(c.old, 'OLD')}`,
    `- ${runLine(c.new, 'NEW')}`,
    `- versions: ${c.versionChanges.length ? c.versionChanges.map((v) => `${v.component} ${v.old ?? '–'} → ${v.new ?? '–'}`).join(', ') : 'the same'}`,
    '',
    `**${counts(c)}.**`,
    '',
    'A regression: a silent or unobserved verdict the old run never gave. A fix: silent before, never now. A possible upstream fix: the same for a known silent behaviour (expected `silent`, with its upstream link). Evidence rules count when they fired in some repetition of one side and in none of the other (results.json keeps the first 10 evidence items of a cell).',
    '',
    `Noise: ${c.noiseRule.join(' ')}`,
    '',
  ];
  if (rows.length) {
    lines.push(
      '| what | scenario | capability | expected | OLD | NEW | evidence rules | beyond noise |',
      '|---|---|---|---|---|---|---|---|',
      ...rows.map((x) => `| ${x.kind === 'regression' ? '**REGRESSION**' : kindText(x)} | ${x.scenario} | ${x.capability} | ${x.expected ?? '–'}${x.known ? ` ([known](${x.known}))` : ''} | ${verdictText(x.old.verdicts)} | ${verdictText(x.new.verdicts)} | ${rulesText(x)} | ${x.measures.map(measureText).join('; ') || '–'} |`),
      '',
    );
  } else {
    lines.push('No cell both runs judged changed beyond noise.', '');
  }
  if (c.onlyIn.length) {
    lines.push('## Cells in one run only', '', '| run | scenario | capability | verdict | why |', '|---|---|---|---|---|');
    lines.push(...c.onlyIn.map((x) => `| ${x.side} | ${x.scenario} | ${x.capability} | ${verdictText(x.verdicts)}${x.regression ? ' **REGRESSION**' : ''} | ${x.why} |`), '');
  }
  if (c.errored.length) {
    lines.push('## Errored experiments', '', ...c.errored.map((e) => `- ${e.side} ${e.scenario}${e.repeat ? ` #${e.repeat}` : ''}: ${mdSafe(e.error)}`), '');
  }
  if (rows.length) {
    lines.push(`## Cell by cell (each run's own stats and first ${EVIDENCE_PER_RUN} evidence items, never averaged)`, '');
    for (const x of rows) {
      lines.push(`### ${x.scenario} / ${x.capability}: ${kindText(x)}`, '');
      for (const m of x.measures) lines.push(`- ${measureText(m)} — ${m.basis}`);
      lines.push(...sideLines('OLD', x.old), ...sideLines('NEW', x.new), '');
    }
  }
  return `${lines.join('\n')}\n`;
}

export function compareHtml(c: Comparison): string {
  const color: Record<ChangeKind, string> = { regression: '#f8d0d0', fix: '#d7f5dd', 'possible-upstream-fix': '#d0e4f8', change: '#fff3c4', same: '#ffffff' };
  const evidence = (s: Side) => esc(s.runs.map((r) => `${r.verdict ?? 'no verdict'}: ${statsText(r)}\n${r.evidence.map((e) => `  ${e.rule}: ${e.detail}`).join('\n')}`).join('\n'));
  const rows = sorted(c).map((x) => `<tr style="background:${color[x.kind]}"><td>${esc(kindText(x))}</td><th>${esc(x.scenario)}</th><td>${esc(x.capability)}</td><td>${esc(x.expected ?? '–')}${x.known ? ` (<a href="${esc(x.known)}">known</a>)` : ''}</td><td title="${evidence(x.old)}">${esc(verdictText(x.old.verdicts))}</td><td title="${evidence(x.new)}">${esc(verdictText(x.new.verdicts))}</td><td>${esc(rulesText(x))}</td><td>${x.measures.map((m) => `<span title="${esc(m.basis)}">${esc(measureText(m))}</span>`).join('<br>') || '–'}</td></tr>`);
  const one = c.onlyIn.map((x) => `<tr${x.regression ? ` style="background:${color.regression}"` : ''}><td>${x.side}</td><th>${esc(x.scenario)}</th><td>${esc(x.capability)}</td><td>${esc(verdictText(x.verdicts))}${x.regression ? ' <b>REGRESSION</b>' : ''}</td><td>${esc(x.why)}</td></tr>`);
  const errored = c.errored.map((e) => `<li>${e.side} ${esc(e.scenario)}${e.repeat ? ` #${e.repeat}` : ''}: ${esc(e.error)}</li>`);
  return `<!doctype html><meta charset="utf-8"><title>mlops-chaos: ${esc(c.old.label)} → ${esc(c.new.label)}</title>
<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 6px;font-size:12px;text-align:left}</style>
<h1>${esc(c.old.label)} → ${esc(c.new.label)}</h1>
<ul><li>${esc(runLine(c.old, 'OLD'))}</li><li>${esc(runLine(c.new, 'NEW'))}</li><li>versions: ${esc(c.versionChanges.map((v) => `${v.component} ${v.old ?? '–'} → ${v.new ?? '–'}`).join(', ') || 'the same')}</li></ul>
<p><b>${esc(counts(c))}.</b></p>
<p>Noise: ${esc(c.noiseRule.join(' '))} Hover a verdict for each run's stats and evidence; compare.md has them cell by cell.</p>
${rows.length ? `<table><tr><th>what</th><th>scenario</th><th>capability</th><th>expected</th><th>OLD</th><th>NEW</th><th>evidence rules</th><th>beyond noise</th></tr>\n${rows.join('\n')}</table>` : '<p>No cell both runs judged changed beyond noise.</p>'}
${one.length ? `<h2>Cells in one run only</h2><table><tr><th>run</th><th>scenario</th><th>capability</th><th>verdict</th><th>why</th></tr>\n${one.join('\n')}</table>` : ''}
${errored.length ? `<h2>Errored experiments</h2><ul>${errored.join('')}</ul>` : ''}
`;
}

/** The few lines `compare` prints. */
export function compareSummary(c: Comparison, files: string[]): string {
  const lines = [`compare ${c.old.label} → ${c.new.label}: ${counts(c)}`];
  for (const x of sorted(c).filter((y) => y.kind !== 'same')) {
    lines.push(`  ${kindText(x).toUpperCase().padEnd(22)} ${x.scenario}/${x.capability}: ${verdictText(x.old.verdicts)} → ${verdictText(x.new.verdicts)}${rulesText(x) === '–' ? '' : ` (rules ${rulesText(x)})`}`);
  }
  for (const x of c.onlyIn.filter((y) => y.regression)) lines.push(`  ${'REGRESSION'.padEnd(22)} ${x.scenario}/${x.capability}: ${verdictText(x.verdicts)} (${x.why})`);
  const measured = c.cells.filter((x) => x.measures.length);
  if (measured.length) lines.push(`  beyond noise: ${measured.map((x) => `${x.scenario}/${x.capability} ${x.measures.map(measureText).join(', ')}`).join('; ')}`);
  lines.push(`noise: ${c.old.repeats > 1 || c.new.repeats > 1 ? 'the spread of the repetitions' : 'single runs, a fixed rule'} (see compare.md)`, `written: ${files.join(', ')}`);
  return lines.join('\n');
}

/** compare.md, compare.html and compare.json into `dir`; returns their paths. */
export function writeComparison(c: Comparison, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [
    ['compare.md', compareMarkdown(c)],
    ['compare.html', compareHtml(c)],
    ['compare.json', `${JSON.stringify(c, null, 2)}\n`],
  ];
  for (const [name, body] of files) writeFileSync(join(dir, name), body);
  return files.map(([name]) => join(dir, name));
}
