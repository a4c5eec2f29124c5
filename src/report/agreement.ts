import type { Evidence } from '../verdict/types.ts';
import type { Judgement, ScenarioResult, VerdictEntry } from './results.ts';

/**
 * Agreement of a repeated run (`--repeat N`): per cell (scenario × capability), the verdict of
 * each repetition and whether they all say the same. A cell that flips is reported run by run,
 * its evidence and window stats side by side, never averaged: a flip means the verdict depends on
 * something the scenario does not control, and the run fails.
 */

/** What one repetition said about one cell. `verdict: null` = no verdict (the experiment errored, or the capability was not judged). */
export interface CellRun {
  repeat: number;
  verdict: VerdictEntry['verdict'] | null;
  /** Why there is no verdict. */
  missing?: string;
  judgement?: Judgement;
  ttdMs?: number | null;
  ttrMs?: number | null;
  evidence: Evidence[];
  stats?: VerdictEntry['stats'];
}

/**
 * `agree`: every repetition gave the same verdict. `flip`: two repetitions gave different verdicts.
 * `incomplete`: the repetitions that gave a verdict agree, but some gave none (an errored
 * experiment, which fails the run by itself).
 */
export type CellStatus = 'agree' | 'flip' | 'incomplete';

export interface AgreementCell {
  scenario: string;
  capability: string;
  expected: VerdictEntry['expected'];
  status: CellStatus;
  runs: CellRun[];
}

export interface Agreement {
  /** The largest number of repetitions of any scenario. */
  repeats: number;
  cells: AgreementCell[];
  flips: AgreementCell[];
}

/** How many evidence items per run a flipped cell shows (all of them are in results.json). */
export const EVIDENCE_PER_RUN = 3;

/** The row label of one repetition in the matrix, JUnit, Allure and the printed verdicts: `name #2`; unchanged for a single run. */
export function repetitionLabel(r: ScenarioResult): ScenarioResult {
  return r.repeat === undefined ? r : { ...r, scenario: `${r.scenario} #${r.repeat}` };
}

export function agreement(results: ScenarioResult[]): Agreement {
  const byScenario = new Map<string, ScenarioResult[]>();
  for (const r of results) {
    const list = byScenario.get(r.scenario) ?? [];
    list.push(r);
    byScenario.set(r.scenario, list);
  }
  const cells: AgreementCell[] = [];
  let repeats = 0;
  for (const [scenario, reps] of byScenario) {
    const ordered = reps.map((r, i) => ({ r, repeat: r.repeat ?? i + 1 })).sort((a, b) => a.repeat - b.repeat);
    repeats = Math.max(repeats, ordered.length);
    const capabilities = [...new Set(ordered.flatMap(({ r }) => r.verdicts.map((v) => v.capability)))].sort();
    for (const capability of capabilities) {
      const runs: CellRun[] = ordered.map(({ r, repeat }) => {
        if (r.error) return { repeat, verdict: null, missing: `errored: ${r.error}`, evidence: [] };
        const v = r.verdicts.find((x) => x.capability === capability);
        if (!v) return { repeat, verdict: null, missing: 'no verdict for this capability', evidence: [] };
        return { repeat, verdict: v.verdict, judgement: v.judgement, ttdMs: v.ttdMs, ttrMs: v.ttrMs, evidence: v.evidence, stats: v.stats };
      });
      const seen = new Set(runs.flatMap((x) => (x.verdict === null ? [] : [x.verdict])));
      const status: CellStatus = seen.size > 1 ? 'flip' : runs.some((x) => x.verdict === null) ? 'incomplete' : 'agree';
      const expected = ordered.flatMap(({ r }) => r.verdicts.filter((v) => v.capability === capability).map((v) => v.expected))[0] ?? null;
      cells.push({ scenario, capability, expected, status, runs });
    }
  }
  return { repeats, cells, flips: cells.filter((c) => c.status === 'flip') };
}

/** Text made safe for one Markdown table cell or list line: no pipes, no line breaks. */
export const mdSafe = (s: string) => s.replace(/\|/g, '/').replace(/\s*\n\s*/g, ' ');
const secs = (ms: number | null | undefined) => (ms === null || ms === undefined ? '–' : `${(ms / 1000).toFixed(1)}s`);
const failing = (j: Judgement | undefined) => j === 'new-silent' || j === 'mismatch';

function runCell(x: CellRun): string {
  if (x.verdict === null) return x.missing?.startsWith('errored') ? 'errored' : '–';
  return `${x.verdict}${failing(x.judgement) ? ' ✗' : ''}`;
}

const STATUS_TEXT: Record<CellStatus, string> = { agree: 'yes', flip: '**FLIP**', incomplete: 'incomplete' };

/** One line of window stats, as the verdict engine measured them in that run. */
export function statsText(x: CellRun): string {
  if (!x.stats) return x.missing ?? 'no stats';
  const s = x.stats;
  return `${s.opsInWindow} ops in window, success ${(s.successRateInWindow * 100).toFixed(0)}% (${s.errorsInWindow} failed), p95 ${s.p95MsInWindow ?? '–'} ms; TTD ${secs(x.ttdMs)}, TTR ${secs(x.ttrMs)}`;
}

/** A flipped cell, run by run: verdict, stats, first evidence items. */
function flipDetail(c: AgreementCell): string[] {
  const lines = [`### ${c.scenario} / ${c.capability} (expected ${c.expected ?? 'not silent'})`, ''];
  for (const x of c.runs) {
    lines.push(`- **#${x.repeat}: ${x.verdict ?? 'no verdict'}**${failing(x.judgement) ? ' ✗' : ''} — ${mdSafe(statsText(x))}`);
    if (x.verdict !== null && x.evidence.length === 0) lines.push('  - no evidence: the capability kept its steady state');
    for (const e of x.evidence.slice(0, EVIDENCE_PER_RUN)) lines.push(`  - ${e.rule}${e.op ? ` [${e.op}]` : ''}: ${mdSafe(e.detail)}`);
    if (x.evidence.length > EVIDENCE_PER_RUN) lines.push(`  - … ${x.evidence.length - EVIDENCE_PER_RUN} more in results.json`);
  }
  lines.push('');
  return lines;
}

export function agreementMarkdown(a: Agreement, meta: { date: string; condition?: string } = { date: '' }): string {
  const n = a.repeats;
  const counts = (s: CellStatus) => a.cells.filter((c) => c.status === s).length;
  const head = [
    `# Verdict agreement over ${n} repetition${n === 1 ? '' : 's'}`,
    '',
    `${meta.date ? `Generated ${meta.date} on the local target${meta.condition ? `; condition: ${meta.condition}` : ''}. ` : ''}Each scenario ran ${n} times in a row on the same stack.`,
    '',
    `${a.cells.length} cells: ${counts('agree')} agree, ${counts('flip')} flip${counts('incomplete') ? `, ${counts('incomplete')} incomplete (a repetition gave no verdict)` : ''}. A flip fails the run; ✗ marks a verdict that differs from the expectation (which fails the run too).`,
    '',
    `| scenario | capability | expected | ${Array.from({ length: n }, (_, i) => `#${i + 1}`).join(' | ')} | agree |`,
    `|---|---|---|${Array.from({ length: n }, () => '---').join('|')}|---|`,
    ...a.cells.map((c) => {
      const cols = Array.from({ length: n }, (_, i) => {
        const x = c.runs.find((r) => r.repeat === i + 1);
        return x ? runCell(x) : '';
      });
      return `| ${c.scenario} | ${c.capability} | ${c.expected ?? '–'} | ${cols.join(' | ')} | ${STATUS_TEXT[c.status]} |`;
    }),
    '',
  ];
  const body = a.flips.length
    ? [`## Flips, run by run (first ${EVIDENCE_PER_RUN} evidence items per run; all of it is in results.json)`, '', ...a.flips.flatMap(flipDetail)]
    : ['No cell flipped: every repetition that gave a verdict gave the same one.', ''];
  return `${[...head, ...body].join('\n')}`;
}

/** The short section at the end of a run's stdout. */
export function agreementSummary(a: Agreement, file?: string): string {
  const lines = [`agreement over ${a.repeats} repetitions: ${a.cells.length - a.flips.length}/${a.cells.length} cells without a flip${file ? ` (${file})` : ''}`];
  for (const c of a.flips) {
    lines.push(`  FLIP ${c.scenario}/${c.capability}: ${c.runs.map((x) => `#${x.repeat} ${x.verdict ?? 'no verdict'}`).join(', ')}`);
    for (const x of c.runs) {
      lines.push(`       #${x.repeat} ${x.verdict ?? 'no verdict'}: ${statsText(x)}`);
      for (const e of x.evidence.slice(0, 2)) lines.push(`         ${e.rule}: ${e.detail.slice(0, 150)}`);
    }
  }
  for (const c of a.cells.filter((x) => x.status === 'incomplete')) {
    lines.push(`  incomplete ${c.scenario}/${c.capability}: ${c.runs.map((x) => `#${x.repeat} ${x.verdict ?? 'no verdict'}`).join(', ')}`);
  }
  return lines.join('\n');
}

/** What a flip adds to "what fails this run". */
export function flipFailures(a: Agreement): string[] {
  return a.flips.map((c) => `${c.scenario}/${c.capability}: the verdict flipped across ${c.runs.length} repetitions (${c.runs.map((x) => `#${x.repeat} ${x.verdict ?? 'no verdict'}`).join(', ')})`);
}
