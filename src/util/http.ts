import { timeouts } from '../timeouts.ts';

export interface HttpResult {
  status: number;
  body: string;
  headers: Headers;
  ms: number;
}

/** The request never produced a response: refused, reset, or no answer before the deadline. */
export class HttpFailure extends Error {
  constructor(
    readonly url: string,
    readonly kind: 'timeout' | 'network',
    readonly ms: number,
    cause: unknown,
  ) {
    super(`${kind === 'timeout' ? `no response within ${ms} ms` : 'connection failed'}: ${url}${cause instanceof Error && kind === 'network' ? ` (${describeCause(cause)})` : ''}`, { cause });
    this.name = 'HttpFailure';
  }
}

function describeCause(err: Error): string {
  const inner = (err as Error & { cause?: unknown }).cause;
  if (inner instanceof Error) return `${inner.message}`;
  return err.message;
}

/** fetch with a deadline; returns any HTTP status, throws HttpFailure only when there is no response. */
export async function http(
  url: string,
  init: RequestInit & { timeoutMs?: number } = {},
): Promise<HttpResult> {
  const timeoutMs = init.timeoutMs ?? timeouts.httpRequest;
  const started = Date.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    return { status: res.status, body, headers: res.headers, ms: Date.now() - started };
  } catch (err) {
    const ms = Date.now() - started;
    const timedOut = err instanceof DOMException && (err.name === 'TimeoutError' || err.name === 'AbortError');
    throw new HttpFailure(url, timedOut ? 'timeout' : 'network', ms, err);
  }
}

export async function httpJson<T>(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<T> {
  const res = await http(url, init);
  if (res.status >= 300) throw new Error(`${init.method ?? 'GET'} ${url} → ${res.status}: ${res.body.slice(0, 300)}`);
  return JSON.parse(res.body) as T;
}
