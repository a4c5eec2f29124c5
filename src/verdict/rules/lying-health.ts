import type { Deadlines, Evidence, OpEvent } from '../types.ts';
import { isFailure } from '../window.ts';

/**
 * A health check that said green while the capability it speaks for was down: every op of the
 * capability overlapping the `healthGraceMs` before the check and every one overlapping the
 * `healthGraceMs` after it failed (at least one on each side). Judged over intervals, not the
 * check's two nearest ops, so the verdict does not depend on how a check happens to interleave
 * with a capability that fails only some of its ops (that one is degraded, not down). Green right
 * as the capability recovers is the truth, not a lie: its later interval holds ok ops.
 */
export function lyingHealth(ops: OpEvent[], health: OpEvent[], d: Deadlines): Evidence[] {
  const g = d.healthGraceMs;
  const overlapping = (from: number, to: number) => ops.filter((e) => e.end >= from && e.start <= to);
  const down = (from: number, to: number) => {
    const xs = overlapping(from, to);
    return xs.length > 0 && xs.every(isFailure) ? xs : undefined;
  };
  const out: Evidence[] = [];
  for (const h of health) {
    if (h.outcome !== 'ok') continue;
    const before = down(h.end - g, h.end);
    if (!before || !down(h.end, h.end + g)) continue;
    const last = before.at(-1)!;
    out.push({ rule: 'lying-health', op: h.op, at: h.end, detail: `${h.op} answered ${h.status ?? 'ok'} while every ${last.op} for ${g} ms before and after it failed (${last.status ?? last.outcome}: ${(last.message ?? '').slice(0, 100)})` });
  }
  // One line per distinct health op is evidence enough.
  return out.filter((e, i) => out.findIndex((o) => o.op === e.op) === i);
}
