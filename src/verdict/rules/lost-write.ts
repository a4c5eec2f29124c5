import type { Evidence, LedgerFinding } from '../types.ts';

/** An acknowledged write missing or different after recovery. */
export function lostWrite(findings: LedgerFinding[]): Evidence[] {
  return findings.filter((f) => f.kind === 'lost' || f.kind === 'altered').map((f) => ({ rule: 'lost-write' as const, detail: `${f.kind}: ${f.detail}` }));
}
