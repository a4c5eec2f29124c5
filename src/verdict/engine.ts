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

export interface EngineInput {
  events: OpEvent[];
  window: FaultWindow;
  deadlines: Deadlines;
  budget: Budget;
  ledger: LedgerFinding[];
}

function stats(ops: OpEvent[], w: FaultWindow): CapabilityStats {
  const win = ops.filter((e) => inWindow(e, w));
  const errors = win.filter(isFailure).length;
  return {
    opsInWindow: win.length,
    errorsInWindow: errors,
    successRateInWindow: win.length === 0 ? 1 : (win.length - errors) / win.length,
    p95MsInWindow: percentile(win.filter((e) => !isFailure(e)).map(durationMs), 95),
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
    const s = stats(ops, w);
    const degraded = s.successRateInWindow < budget.minSuccessRate || (s.p95MsInWindow ?? 0) > budget.maxP95Ms;
    const unknown: Evidence[] = findings.filter((f) => f.kind === 'unknown-outcome').map((f) => ({ rule: 'degraded', detail: `unknown-outcome: ${f.detail}` }));
    const evidence: Evidence[] = silent.length ? silent : degraded ? [{ rule: 'degraded', detail: `success ${(s.successRateInWindow * 100).toFixed(0)}% (budget ${budget.minSuccessRate * 100}%), p95 ${s.p95MsInWindow ?? '-'} ms (budget ${budget.maxP95Ms} ms); no silent-failure evidence` }, ...unknown] : unknown;
    const disturbed = silent.length > 0 || degraded;
    return {
      platform,
      capability,
      verdict: silent.length ? 'silent' : degraded ? 'observable' : 'resilient',
      ttdMs: disturbed ? timeToDetect(ops, health, w) : null,
      ttrMs: disturbed ? timeToRecover(ops, w) : null,
      evidence,
      stats: s,
    };
  });
}
