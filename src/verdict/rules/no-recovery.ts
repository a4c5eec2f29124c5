import type { Deadlines, Evidence, FaultWindow, LedgerFinding, OpEvent } from '../types.ts';
import { isFailure } from '../window.ts';

/** Still failing after the recovery deadline, or a zombie left behind (a run stuck RUNNING). */
export function noRecovery(ops: OpEvent[], w: FaultWindow, d: Deadlines, findings: LedgerFinding[]): Evidence[] {
  const deadline = w.revertedAt + d.recoveryMs;
  const late = ops.filter((e) => e.start >= deadline && isFailure(e));
  const after = ops.filter((e) => e.start >= w.revertedAt);
  const out: Evidence[] = late.slice(0, 3).map((e) => ({
    rule: 'no-recovery' as const,
    op: e.op,
    at: e.start,
    detail: `still ${e.outcome} ${e.start - w.revertedAt} ms after revert (recovery deadline ${d.recoveryMs} ms): ${(e.message ?? '').slice(0, 120)}`,
  }));
  if (after.length > 0 && after.every(isFailure) && late.length === 0) {
    // Every op after revert failed, but none started after the deadline: the probe stopped too early to tell.
    out.push({ rule: 'no-recovery', detail: `no successful op after revert (${after.length} tried, none after the recovery deadline)` });
  }
  for (const f of findings.filter((x) => x.kind === 'zombie')) out.push({ rule: 'no-recovery', detail: `zombie: ${f.detail}` });
  return out;
}
