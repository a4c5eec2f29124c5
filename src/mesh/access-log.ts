import { existsSync, readFileSync } from 'node:fs';

/** One request as a sidecar logged it (fields of ACCESS_LOG_FORMAT). */
export interface AccessLogEntry {
  /** Which sidecar: `client` (outbound) or `server` (inbound). */
  side: 'client' | 'server';
  start: number;
  method: string;
  path: string;
  code: number;
  /** Envoy's response flags, `-` when none: UC, UF, URX, NR, UH, … */
  flags: string;
  details: string;
  attempts: number;
  cluster: string;
  transportFailure: string;
}

/** Reads a sidecar's JSON access log; a line Envoy did not finish writing is skipped. */
export function readAccessLog(file: string, side: AccessLogEntry['side']): AccessLogEntry[] {
  if (!existsSync(file)) return [];
  const out: AccessLogEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const str = (k: string) => (j[k] == null ? '-' : String(j[k]));
    out.push({
      side, start: Date.parse(str('start')), method: str('method'), path: str('path'), code: Number(j.code ?? 0), flags: str('flags'),
      details: str('details'), attempts: Number(j.attempts ?? 1), cluster: str('cluster'), transportFailure: str('transportFailure'),
    });
  }
  return out;
}

/** What the sidecars did, in a form results carry: requests, and each response flag with an example line. */
export interface AccessLogSummary {
  requests: { client: number; server: number };
  /** `client UC 503 upstream_reset_before_response_started{connection_termination}` → count and first time. */
  flagged: { side: AccessLogEntry['side']; flags: string; code: number; details: string; count: number; first: string }[];
  /** Requests the client sidecar retried (attempts > 1), whatever their outcome: what retries hid. */
  retried: number;
}

export function summarize(entries: AccessLogEntry[]): AccessLogSummary {
  const flagged = new Map<string, AccessLogSummary['flagged'][number]>();
  for (const e of entries) {
    if (e.flags === '-' && e.code < 500) continue;
    const key = `${e.side} ${e.flags} ${e.code} ${e.details}`;
    const f = flagged.get(key);
    if (f) f.count++;
    else flagged.set(key, { side: e.side, flags: e.flags, code: e.code, details: e.details, count: 1, first: new Date(e.start).toISOString() });
  }
  return {
    requests: { client: entries.filter((e) => e.side === 'client').length, server: entries.filter((e) => e.side === 'server').length },
    flagged: [...flagged.values()].sort((a, b) => b.count - a.count),
    retried: entries.filter((e) => e.side === 'client' && e.attempts > 1).length,
  };
}

/**
 * The log line that explains a client's failed request: the first flagged entry of the sidecar
 * closest to the client that started within `slackMs` of it (the sidecar logs when the request
 * began, the probe when it sent it). Undefined when no sidecar flagged anything then.
 */
export function explain(entries: AccessLogEntry[], at: number, slackMs = 1_000): AccessLogEntry | undefined {
  const near = entries.filter((e) => (e.flags !== '-' || e.code >= 500) && Math.abs(e.start - at) <= slackMs);
  return near.find((e) => e.side === 'client') ?? near[0];
}

export const describeEntry = (e: AccessLogEntry): string =>
  `${e.side === 'client' ? 'client' : 'server'} sidecar logged ${e.code} ${e.flags} ${e.details}${e.transportFailure !== '-' ? ` (${e.transportFailure})` : ''} on ${e.cluster}${e.attempts > 1 ? ` after ${e.attempts} attempts` : ''}`;
