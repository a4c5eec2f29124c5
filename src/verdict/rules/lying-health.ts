import type { Deadlines, Evidence, OpEvent } from '../types.ts';
import { isFailure } from '../window.ts';

/**
 * A health check that said green while the capability it speaks for was failing: green more
 * than `healthGraceMs` after the first failure, with the capability's ops failing both just
 * before and just after it. (Green right as the capability recovers is the truth, not a lie.)
 */
export function lyingHealth(ops: OpEvent[], health: OpEvent[], d: Deadlines): Evidence[] {
  const byEnd = [...ops].sort((a, b) => a.end - b.end);
  const byStart = [...ops].sort((a, b) => a.start - b.start);
  const firstFailure = byEnd.find(isFailure);
  if (!firstFailure) return [];
  const out: Evidence[] = [];
  for (const h of health) {
    if (h.outcome !== 'ok' || h.end < firstFailure.end + d.healthGraceMs) continue;
    const before = byEnd.filter((e) => e.end <= h.end).at(-1);
    const after = byStart.find((e) => e.start >= h.end);
    if (before && after && isFailure(before) && isFailure(after)) {
      out.push({ rule: 'lying-health', op: h.op, at: h.end, detail: `${h.op} answered ${h.status ?? 'ok'} while ${before.op} was failing (${before.status ?? before.outcome}: ${(before.message ?? '').slice(0, 100)})` });
    }
  }
  // One line per distinct health op is evidence enough.
  return out.filter((e, i) => out.findIndex((o) => o.op === e.op) === i);
}
