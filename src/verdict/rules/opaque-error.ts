import type { Evidence, OpEvent } from '../types.ts';

// Text that only says a proxy or gateway was in the way, not what failed.
const PROXY_ONLY = [/^upstream connect error/i, /^no healthy upstream$/i, /^<html>.*(502|503|504).*<\/html>$/is, /^service unavailable$/i, /^bad gateway$/i, /^internal server error$/i];

/** An error with no diagnosable message: empty, or a proxy's boilerplate. */
export function opaqueError(ops: OpEvent[]): Evidence[] {
  return ops
    .filter((e) => e.outcome === 'error')
    .filter((e) => {
      const m = (e.message ?? '').trim();
      return m.length === 0 || PROXY_ONLY.some((re) => re.test(m));
    })
    .map((e) => ({ rule: 'opaque-error' as const, op: e.op, at: e.start, detail: `${e.status ?? 'no status'} with ${e.message?.trim() ? `only proxy text "${e.message.trim().slice(0, 80)}"` : 'an empty message'}` }));
}
