import type { Deadlines, Evidence, OpEvent } from '../types.ts';
import { durationMs } from '../window.ts';

/** An op that neither succeeded nor failed within its deadline. Exactly at the deadline is in time. */
export function hang(ops: OpEvent[], d: Deadlines): Evidence[] {
  return ops
    .filter((e) => e.outcome === 'timeout' || durationMs(e) > d.operationMs)
    .map((e) => ({
      rule: 'hang' as const,
      op: e.op,
      at: e.start,
      detail: e.outcome === 'timeout' ? `no answer within ${durationMs(e)} ms (deadline ${d.operationMs} ms)` : `${e.outcome} only after ${durationMs(e)} ms (deadline ${d.operationMs} ms)`,
    }));
}
