import type { StepRecord } from './allure.ts';

/**
 * Where a matrix's time goes, by phase of its experiments: the matrix has a time goal, and what
 * dominates decides what can be cut (a fault window is what is measured; a set-up is overhead).
 */
export const PHASES = ['set-up', 'steady state', 'fault set-up', 'fault window', 'recovery', 'reconcile', 'tear-down', 'other'] as const;
export type Phase = (typeof PHASES)[number];

/** A step of runScenario by its name (run-scenario.ts and experiment.ts name them). */
export function phaseOf(step: string): Phase {
  if (step === 'steady state') return 'steady state';
  if (/^(prepare|inject) /.test(step)) return 'fault set-up';
  if (step.startsWith('observe ') || step === 'revert') return 'fault window';
  if (step === 'recover') return 'recovery';
  if (step === 'reconcile the ledger') return 'reconcile';
  if (/^put .* (on|under) /.test(step)) return 'set-up';
  if (step === 'remove the sidecars' || step === 'take the autoscaler away') return 'tear-down';
  return 'other';
}

/** Milliseconds per phase of one experiment's steps; phases it did not have are left out. */
export function phaseTimes(steps: readonly StepRecord[]): Partial<Record<Phase, number>> {
  const out: Partial<Record<Phase, number>> = {};
  for (const s of steps) {
    const p = phaseOf(s.name);
    out[p] = (out[p] ?? 0) + Math.max(0, s.stop - s.start);
  }
  return out;
}

const secs = (ms: number) => `${Math.round(ms / 1000)} s`;

/**
 * One line for a run: its experiments' time by phase, largest first, and the longest experiments
 * with their largest phase.
 */
export function timeSpentSummary(results: readonly { scenario: string; durationMs: number; phases?: Partial<Record<Phase, number>> }[], longest = 5): string {
  const total = results.reduce((a, r) => a + r.durationMs, 0);
  const byPhase = new Map<Phase, number>();
  for (const r of results) for (const [p, ms] of Object.entries(r.phases ?? {}) as [Phase, number][]) byPhase.set(p, (byPhase.get(p) ?? 0) + ms);
  const share = (ms: number) => (total > 0 ? ` (${Math.round((100 * ms) / total)}%)` : '');
  const phases = [...byPhase].filter(([, ms]) => ms >= 500).sort((a, b) => b[1] - a[1]).map(([p, ms]) => `${p} ${secs(ms)}${share(ms)}`);
  const top = [...results].sort((a, b) => b.durationMs - a.durationMs).slice(0, longest).map((r) => {
    const [p, ms] = (Object.entries(r.phases ?? {}) as [Phase, number][]).sort((a, b) => b[1] - a[1])[0] ?? [];
    return `${r.scenario} ${secs(r.durationMs)}${p ? ` (${p} ${secs(ms!)})` : ''}`;
  });
  return `time: ${secs(total)} in ${results.length} experiment${results.length === 1 ? '' : 's'}${phases.length ? `: ${phases.join(', ')}` : ''}${top.length ? `; longest: ${top.join(', ')}` : ''}`;
}
