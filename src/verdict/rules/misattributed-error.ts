import type { Evidence, FaultWindow, OpEvent } from '../types.ts';
import { inWindow } from '../window.ts';

/** A dependency fault reported as the client's mistake (4xx): clients won't retry, people look in the wrong place. */
export function misattributedError(ops: OpEvent[], w: FaultWindow): Evidence[] {
  if (!w.dependencyFault) return [];
  return ops
    .filter((e) => e.outcome === 'error' && e.status !== undefined && e.status >= 400 && e.status < 500 && inWindow(e, w))
    .map((e) => ({ rule: 'misattributed-error' as const, op: e.op, at: e.start, detail: `dependency fault answered with ${e.status}: ${(e.message ?? '').slice(0, 160)}` }));
}
