import type { Verdict } from '../verdict/types.ts';
import { agreement, EVIDENCE_PER_RUN, mdSafe, statsText, type CellRun } from './agreement.ts';
import { verdictText, type LoadedRun } from './compare.ts';

/**
 * Flakiness across nights: per cell (scenario × capability), how often its verdict changed from
 * one run to the next. Each flip is shown with both runs' own evidence, never averaged: a cell
 * that flips depends on something its scenario does not control.
 */

/** One run's say on a cell: the verdict of each of its repetitions. */
export interface HistoryPoint {
  label: string;
  verdicts: Verdict[];
  runs: CellRun[];
}

export interface HistoryCell {
  scenario: string;
  capability: string;
  /** The runs that judged this cell, oldest first. */
  points: HistoryPoint[];
  flips: { from: HistoryPoint; to: HistoryPoint }[];
  /** flips / (points − 1); null with fewer than two points. */
  flipRate: number | null;
  /** Runs that did not judge it (not run, errored, capability not reported). */
  absent: string[];
}

/** A run's state for a cell: the set of verdicts its repetitions gave (a run that flipped within is its own state). */
const state = (p: HistoryPoint) => [...new Set(p.verdicts)].sort().join('+');

/** Runs are told apart by label: two run directories of the same name (from different places) go by their file paths. */
export function distinctLabels<T extends Pick<LoadedRun, 'label' | 'file'>>(runs: readonly T[]): T[] {
  return runs.map((r) => (runs.filter((x) => x.label === r.label).length > 1 ? { ...r, label: r.file } : r));
}

/** `runs` oldest first, with distinct labels. */
export function history(runs: readonly Pick<LoadedRun, 'label' | 'results'>[]): HistoryCell[] {
  const cells = new Map<string, HistoryCell>();
  const order: string[] = [];
  for (const run of runs) {
    for (const c of agreement(run.results).cells) {
      const k = `${c.scenario}\u0000${c.capability}`;
      if (!cells.has(k)) {
        cells.set(k, { scenario: c.scenario, capability: c.capability, points: [], flips: [], flipRate: null, absent: [] });
        order.push(k);
      }
      const verdicts = c.runs.flatMap((r) => (r.verdict === null ? [] : [r.verdict]));
      cells.get(k)!.points.push({ label: run.label, verdicts, runs: c.runs });
    }
  }
  return order.map((k) => {
    const c = cells.get(k)!;
    const flips = c.points.slice(1).flatMap((to, i) => (state(to) === state(c.points[i]!) ? [] : [{ from: c.points[i]!, to }]));
    const seen = new Set(c.points.map((p) => p.label));
    return { ...c, flips, flipRate: c.points.length > 1 ? flips.length / (c.points.length - 1) : null, absent: runs.map((r) => r.label).filter((l) => !seen.has(l)) };
  });
}

const LETTER: Record<Verdict, string> = { resilient: 'R', observable: 'O', silent: 'S', unobserved: 'U' };

/** Flipping cells first, most flips per run first. */
const byFlips = (cells: readonly HistoryCell[]) => [...cells].sort((a, b) => (b.flipRate ?? -1) - (a.flipRate ?? -1));

function trail(c: HistoryCell, labels: readonly string[]): string {
  return labels.map((l) => {
    const p = c.points.find((x) => x.label === l);
    return p ? [...new Set(p.verdicts)].map((v) => LETTER[v]).join('+') : '·';
  }).join(' ');
}

function pointLines(p: HistoryPoint): string[] {
  return p.runs.flatMap((r) => [
    `- **${p.label}${p.runs.length > 1 ? ` #${r.repeat}` : ''}: ${r.verdict ?? 'no verdict'}** — ${mdSafe(statsText(r))}`,
    ...(r.verdict !== null && r.evidence.length === 0 ? ['  - no evidence: the capability kept its steady state'] : []),
    ...r.evidence.slice(0, EVIDENCE_PER_RUN).map((e) => `  - ${e.rule}${e.op ? ` [${e.op}]` : ''}: ${mdSafe(e.detail)}`),
  ]);
}

export function historyMarkdown(cells: readonly HistoryCell[], labels: readonly string[]): string {
  const flipping = cells.filter((c) => c.flips.length);
  const lines = [
    `# Verdict history over ${labels.length} runs`,
    '',
    `Runs, oldest first: ${labels.join(', ')}.`,
    '',
    `${cells.length} cells, ${flipping.length} with a flip. Flip rate = flips / (runs that judged the cell − 1); a run whose repetitions disagreed is its own state (O+S). R resilient, O observable, S silent, U unobserved, · not judged in that run.`,
    '',
    '| scenario | capability | runs | flips | flip rate | verdicts, oldest first |',
    '|---|---|---|---|---|---|',
    ...byFlips(cells).map((c) => `| ${c.scenario} | ${c.capability} | ${c.points.length} | ${c.flips.length} | ${c.flipRate === null ? '–' : c.flipRate.toFixed(2)} | ${trail(c, labels)} |`),
    '',
  ];
  if (flipping.length) lines.push(`## Flips, with both runs' own stats and first ${EVIDENCE_PER_RUN} evidence items`, '');
  for (const c of byFlips(flipping)) {
    lines.push(`### ${c.scenario} / ${c.capability}: ${c.flips.length} flip${c.flips.length === 1 ? '' : 's'} in ${c.points.length} runs`, '');
    for (const f of c.flips) lines.push(`#### ${f.from.label} → ${f.to.label}: ${verdictText(f.from.verdicts)} → ${verdictText(f.to.verdicts)}`, '', ...pointLines(f.from), ...pointLines(f.to), '');
  }
  return `${lines.join('\n')}\n`;
}

export function historySummary(cells: readonly HistoryCell[], labels: readonly string[], file: string): string {
  const flipping = byFlips(cells.filter((c) => c.flips.length));
  return [
    `history over ${labels.length} runs: ${cells.length} cells, ${flipping.length} with a flip (${file})`,
    ...flipping.map((c) => `  FLIPS ${c.flips.length}/${c.points.length - 1} ${c.scenario}/${c.capability}: ${trail(c, labels)}`),
  ].join('\n');
}
