import type { Deadlines, Evidence, OpEvent } from '../types.ts';
import { isFailure } from '../window.ts';

/**
 * A health check that said green while the capability it speaks for was down: for some kind of
 * op of the capability (uploads, say), every one overlapping the `healthGraceMs` before the check
 * and every one overlapping the `healthGraceMs` after it failed (at least one on each side).
 * Judged over intervals, not the check's two nearest ops, so the verdict does not depend on how a
 * check happens to interleave with a capability that fails only some of its ops (that one is
 * degraded, not down). Judged per kind of op, so one op of another kind that rides out the whole
 * fault in flight (a read-back whose server retries S3 until it is back) does not hide that every
 * upload failed. Green right as the capability recovers is the truth, not a lie: its later
 * interval holds ok ops.
 */
export function lyingHealth(ops: OpEvent[], health: OpEvent[], d: Deadlines): Evidence[] {
  const g = d.healthGraceMs;
  const kinds = [...new Set(ops.map((e) => e.op))];
  const down = (kind: string, from: number, to: number) => {
    const xs = ops.filter((e) => e.op === kind && e.end >= from && e.start <= to);
    return xs.length > 0 && xs.every(isFailure) ? xs : undefined;
  };
  const out: Evidence[] = [];
  for (const h of health) {
    if (h.outcome !== 'ok') continue;
    for (const kind of kinds) {
      const before = down(kind, h.end - g, h.end);
      if (!before || !down(kind, h.end, h.end + g)) continue;
      const last = before.at(-1)!;
      out.push({ rule: 'lying-health', op: h.op, at: h.end, detail: `${h.op} answered ${h.status ?? 'ok'} while every ${last.op} for ${g} ms before and after it failed (${last.status ?? last.outcome}: ${(last.message ?? '').slice(0, 100)})` });
      break;
    }
  }
  // One line per distinct health op is evidence enough.
  return out.filter((e, i) => out.findIndex((o) => o.op === e.op) === i);
}
