import type { Deadlines, Evidence, OpEvent } from '../types.ts';
import { isFailure } from '../window.ts';

/**
 * A health check that stayed green while the capability it speaks for was failing: green
 * more than `healthGraceMs` after the first failure, with the capability's latest op still failing.
 */
export function lyingHealth(ops: OpEvent[], health: OpEvent[], d: Deadlines): Evidence[] {
  const sorted = [...ops].sort((a, b) => a.end - b.end);
  const firstFailure = sorted.find(isFailure);
  if (!firstFailure) return [];
  const out: Evidence[] = [];
  for (const h of health) {
    if (h.outcome !== 'ok' || h.end < firstFailure.end + d.healthGraceMs) continue;
    const latest = sorted.filter((e) => e.end <= h.end).at(-1);
    if (latest && isFailure(latest)) {
      out.push({ rule: 'lying-health', op: h.op, at: h.end, detail: `${h.op} answered ${h.status ?? 'ok'} while ${latest.op} was failing (${latest.status ?? latest.outcome}: ${(latest.message ?? '').slice(0, 100)})` });
    }
  }
  // One line per distinct health op is evidence enough.
  return out.filter((e, i) => out.findIndex((o) => o.op === e.op) === i);
}
