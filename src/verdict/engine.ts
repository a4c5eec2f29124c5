import { hang } from './rules/hang.ts';
import { lostWrite } from './rules/lost-write.ts';
import { lyingHealth } from './rules/lying-health.ts';
import { misattributedError } from './rules/misattributed-error.ts';
import { noRecovery } from './rules/no-recovery.ts';
import { opaqueError } from './rules/opaque-error.ts';
import { phantomWrite } from './rules/phantom-write.ts';
import { successWithoutEffect } from './rules/success-without-effect.ts';
import type { Budget, CapabilityStats, CapabilityVerdict, Deadlines, Evidence, FaultWindow, LedgerFinding, OpEvent } from './types.ts';
import { durationMs, inWindow, isFailure, isHealth, percentile } from './window.ts';

/**
 * Fewer ops than this overlapping the fault window and a capability is `unobserved`, unless one
 * of them was in flight under the fault for at least half the window (see `metFault`). Three is
 * the least that proves the fault was met: a probe's ops of one capability run one after
 * another, so of three that overlap the window the first may have started before the injection
 * and the last may end after the revert, but the middle one ran wholly under the fault. With two,
 * neither may have. A probe whose single op is long (a whole pipeline run) may ask for fewer.
 */
export const MIN_OPS_IN_WINDOW = 3;

export interface EngineInput {
  events: OpEvent[];
  window: FaultWindow;
  deadlines: Deadlines;
  budget: Budget;
  ledger: LedgerFinding[];
  /** End of the steady-state observation: ok ops ending before it are the capability's own baseline. */
  steadyUntil?: number;
  /** Per-capability minimum ops in the window, where a probe asks for other than MIN_OPS_IN_WINDOW. */
  minOps?: Record<string, number>;
}

/** The p95 budget for one capability: absolute, or relative to its own steady-state median with a floor. */
function p95Budget(ops: OpEvent[], budget: Budget, steadyUntil: number | undefined): Pick<CapabilityStats, 'steadyMedianMs' | 'p95BudgetMs' | 'p95Basis'> {
  const steady = steadyUntil === undefined ? [] : ops.filter((e) => e.end < steadyUntil && !isFailure(e)).map(durationMs);
  const steadyMedianMs = percentile(steady, 50);
  if (!budget.relativeP95) return { steadyMedianMs, p95BudgetMs: budget.maxP95Ms, p95Basis: `absolute ${budget.maxP95Ms} ms` };
  const { factor } = budget.relativeP95;
  if (steadyMedianMs === null) return { steadyMedianMs, p95BudgetMs: budget.maxP95Ms, p95Basis: `the floor ${budget.maxP95Ms} ms (no steady-state op to scale ${factor}× from)` };
  const relative = Math.round(factor * steadyMedianMs);
  return relative > budget.maxP95Ms
    ? { steadyMedianMs, p95BudgetMs: relative, p95Basis: `${factor}× the steady-state median ${steadyMedianMs} ms (${steady.length} ops)` }
    : { steadyMedianMs, p95BudgetMs: budget.maxP95Ms, p95Basis: `the floor ${budget.maxP95Ms} ms (${factor}× the steady-state median ${steadyMedianMs} ms is below it)` };
}

/** An op that hung (or crawled) under the fault for half the window met it, however few ops there were. */
const LONG_EXPOSURE = 0.5;

function metFault(ops: OpEvent[], w: FaultWindow, minOps: number): boolean {
  const win = ops.filter((e) => inWindow(e, w));
  if (win.length >= minOps) return true;
  const exposure = (e: OpEvent) => Math.min(e.end, w.revertedAt) - Math.max(e.start, w.injectedAt);
  return win.some((e) => exposure(e) >= LONG_EXPOSURE * (w.revertedAt - w.injectedAt));
}

function stats(ops: OpEvent[], w: FaultWindow, budget: Budget, steadyUntil: number | undefined, minOpsInWindow: number): CapabilityStats {
  const win = ops.filter((e) => inWindow(e, w));
  const errors = win.filter(isFailure).length;
  return {
    opsInWindow: win.length,
    errorsInWindow: errors,
    successRateInWindow: win.length === 0 ? 1 : (win.length - errors) / win.length,
    p95MsInWindow: percentile(win.filter((e) => !isFailure(e)).map(durationMs), 95),
    minOpsInWindow,
    ...p95Budget(ops, budget, steadyUntil),
  };
}

/** Fault injected → first signal: a failed op or a health check turning red. */
function timeToDetect(ops: OpEvent[], health: OpEvent[], w: FaultWindow): number | null {
  const signals = [...ops, ...health].filter((e) => isFailure(e) && e.end >= w.injectedAt).map((e) => e.end);
  return signals.length ? Math.min(...signals) - w.injectedAt : null;
}

/** Fault reverted → steady state: the first ok after revert from which every later op is ok. */
function timeToRecover(ops: OpEvent[], w: FaultWindow): number | null {
  const after = ops.filter((e) => e.end >= w.revertedAt).sort((a, b) => a.end - b.end);
  const lastFailure = after.findLastIndex(isFailure);
  const recovered = after[lastFailure + 1];
  if (!recovered) return null;
  return Math.max(0, recovered.end - w.revertedAt);
}

/**
 * One verdict per capability, from the rules of DESIGN.md §2. Pure: same input, same verdicts.
 * Health checks (events with `healthOf`) count as evidence for the capability they speak for.
 */
export function judge(input: EngineInput): CapabilityVerdict[] {
  const { events, window: w, deadlines: d, budget, ledger } = input;
  const caps = new Map<string, OpEvent['platform']>();
  for (const e of events) if (!isHealth(e)) caps.set(e.capability, e.platform);
  for (const f of ledger) if (!caps.has(f.capability)) caps.set(f.capability, 'mlflow');

  return [...caps.entries()].map(([capability, platform]) => {
    const ops = events.filter((e) => !isHealth(e) && e.capability === capability);
    const health = events.filter((e) => e.healthOf === capability);
    const findings = ledger.filter((f) => f.capability === capability);
    const silent: Evidence[] = [
      ...lostWrite(findings),
      ...phantomWrite(findings),
      ...successWithoutEffect(ops, findings),
      ...hang(ops, d),
      ...lyingHealth(ops, health, d),
      ...opaqueError(ops),
      ...misattributedError(ops, w),
      ...noRecovery(ops, w, d, findings),
    ];
    const s = stats(ops, w, budget, input.steadyUntil, input.minOps?.[capability] ?? MIN_OPS_IN_WINDOW);
    // Silent evidence is an observation in itself (a lost write, one hung op); without it, a
    // capability exercised fewer times than the minimum cannot be judged either way.
    const unobserved = silent.length === 0 && !metFault(ops, w, s.minOpsInWindow);
    const degraded = s.successRateInWindow < budget.minSuccessRate || (s.p95MsInWindow ?? 0) > s.p95BudgetMs;
    const unknown: Evidence[] = findings.filter((f) => f.kind === 'unknown-outcome').map((f) => ({ rule: 'degraded', detail: `unknown-outcome: ${f.detail}` }));
    const evidence: Evidence[] = silent.length
      ? silent
      : unobserved
        ? [{ rule: 'unobserved', detail: `${s.opsInWindow} op(s) overlapped the fault window and none was under the fault for half of it; at least ${s.minOpsInWindow} are needed to judge` }, ...unknown]
        : degraded
          ? [{ rule: 'degraded', detail: `success ${(s.successRateInWindow * 100).toFixed(0)}% (budget ${budget.minSuccessRate * 100}%), p95 ${s.p95MsInWindow ?? '-'} ms (budget ${s.p95BudgetMs} ms: ${s.p95Basis}); no silent-failure evidence` }, ...unknown]
          : unknown;
    const disturbed = silent.length > 0 || degraded;
    return {
      platform,
      capability,
      verdict: silent.length ? 'silent' : unobserved ? 'unobserved' : degraded ? 'observable' : 'resilient',
      ttdMs: disturbed ? timeToDetect(ops, health, w) : null,
      ttrMs: disturbed ? timeToRecover(ops, w) : null,
      evidence,
      stats: s,
    };
  });
}
