import type { Evidence, LedgerFinding } from '../types.ts';

/**
 * The platform answered that a write failed, and it happened: a client that retries duplicates
 * it (a second metric point, a second model version), one that gives up reports a loss that
 * did not occur. A timeout that turns out to have committed is ambiguous by nature and is
 * reported by the engine without making the verdict silent.
 */
export function phantomWrite(findings: LedgerFinding[]): Evidence[] {
  return findings.filter((f) => f.kind === 'phantom').map((f) => ({ rule: 'phantom-write' as const, detail: f.detail }));
}
