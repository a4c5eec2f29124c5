import { request } from 'node:http';
import { timeouts } from '../timeouts.ts';

export interface HttpResult {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  ms: number;
}

/** The request never produced a response: refused, reset, or no answer before the deadline. */
export class HttpFailure extends Error {
  constructor(
    readonly url: string,
    readonly kind: 'timeout' | 'network',
    readonly ms: number,
    cause?: Error,
  ) {
    super(`${kind === 'timeout' ? `no response within ${ms} ms` : 'connection failed'}: ${url}${cause ? ` (${cause.message})` : ''}`, { cause });
    this.name = 'HttpFailure';
  }
}

export interface HttpInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

/**
 * One HTTP request on its own connection (no keep-alive pool: a socket the server closed while
 * idle would otherwise surface as a spurious reset on the next op). Returns any status; throws
 * HttpFailure only when there is no response before the deadline.
 */
export function http(url: string, init: HttpInit = {}): Promise<HttpResult> {
  const timeoutMs = init.timeoutMs ?? timeouts.httpRequest;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const body = init.body === undefined ? undefined : Buffer.from(init.body);
    const req = request(url, { method: init.method ?? 'GET', headers: { ...init.headers, ...(body ? { 'content-length': String(body.length) } : {}) }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers, ms: Date.now() - started });
      });
      res.on('error', (err) => fail('network', err));
    });
    const fail = (kind: 'timeout' | 'network', err?: Error) => {
      clearTimeout(timer);
      req.destroy();
      reject(new HttpFailure(url, kind, Date.now() - started, err));
    };
    const timer = setTimeout(() => fail('timeout'), timeoutMs);
    req.on('error', (err) => fail('network', err));
    req.end(body);
  });
}

export async function httpJson<T>(url: string, init: HttpInit = {}): Promise<T> {
  const res = await http(url, init);
  if (res.status >= 300) throw new Error(`${init.method ?? 'GET'} ${url} → ${res.status}: ${res.body.slice(0, 300)}`);
  return JSON.parse(res.body) as T;
}
