import type { Evidence, LedgerFinding, OpEvent } from '../types.ts';

/** The platform said it worked, and it did not: a wrong 200, a FINISHED run missing its artifact, a READY version without a source. */
export function successWithoutEffect(ops: OpEvent[], findings: LedgerFinding[]): Evidence[] {
  const wrong = ops
    .filter((e) => e.outcome === 'ok' && e.correct === false)
    .map((e) => ({ rule: 'success-without-effect' as const, op: e.op, at: e.start, detail: `answered ${e.status ?? 'ok'} with a wrong result: ${(e.message ?? '').slice(0, 160)}` }));
  const ledger = findings
    .filter((f) => f.kind === 'missing-artifact' || f.kind === 'dangling-source')
    .map((f) => ({ rule: 'success-without-effect' as const, detail: `${f.kind}: ${f.detail}` }));
  return [...wrong, ...ledger];
}
