import { http, HttpFailure, type HttpResult } from '../util/http.ts';
import { DeadlineExceeded } from '../util/poll.ts';
import type { OpEvent } from '../verdict/types.ts';
import type { PythonWorker, WorkerReply } from '../workloads/python-worker.ts';
import type { ProbeContext } from './types.ts';

type Base = Pick<OpEvent, 'platform' | 'capability' | 'op'> & { healthOf?: string };

/** Error text as a person would see it: the platform's message, else the raw body. */
export function messageOf(body: string): string {
  try {
    const j = JSON.parse(body) as { message?: string; error?: string; error_code?: string };
    const m = j.message ?? j.error;
    if (m) return j.error_code ? `${j.error_code}: ${m}` : m;
  } catch {
    // not JSON: the body itself is what a person sees
  }
  return body.trim();
}

/** One HTTP op → one event. `judge` may mark a 200 wrong (prediction vs golden). */
export async function httpOp(
  ctx: ProbeContext,
  base: Base,
  send: (timeoutMs: number) => Promise<HttpResult>,
  judge?: (res: HttpResult) => { correct: boolean; note?: string },
): Promise<HttpResult | undefined> {
  const start = Date.now();
  try {
    const res = await send(ctx.operationDeadlineMs);
    const ok = res.status >= 200 && res.status < 300;
    const verdict = ok && judge ? judge(res) : undefined;
    ctx.timeline.push({
      ...base, start, end: Date.now(), outcome: ok ? 'ok' : 'error', status: res.status,
      message: ok ? verdict?.note : messageOf(res.body).slice(0, 500),
      ...(verdict ? { correct: verdict.correct } : {}),
    });
    return res;
  } catch (err) {
    if (!(err instanceof HttpFailure)) throw err;
    ctx.timeline.push({ ...base, start, end: Date.now(), outcome: err.kind === 'timeout' ? 'timeout' : 'error', message: err.message });
    return undefined;
  }
}

export const get = (url: string) => (timeoutMs: number) => http(url, { timeoutMs });

/** How a client op ended: its result, or how the client was told it failed. */
export type ClientOutcome<T> =
  | { ok: true; result: T }
  /** `answered`: the platform itself said it failed (an HTTP error status, retried or not), as opposed to a timeout or a lost connection. */
  | { ok: false; answered: boolean; message: string };

// The MLflow client reports exhausted retries on a status as text only: "too many 503 error responses".
const RETRIED_STATUS = /too many \d{3} error responses/;

/**
 * One MLflow client op through the worker → one event. `judge` may mark an acknowledged result
 * wrong (a download that differs).
 */
export async function clientCall<T>(ctx: ProbeContext, worker: PythonWorker, base: Base, args: Record<string, unknown>, judge?: (result: T) => { correct: boolean; note?: string }): Promise<ClientOutcome<T>> {
  const start = Date.now();
  let reply: WorkerReply<T>;
  try {
    reply = await worker.call<T>(base.op, args, ctx.operationDeadlineMs);
  } catch (err) {
    if (!(err instanceof DeadlineExceeded) && !(err instanceof Error)) throw err;
    // A client killed mid-op (a client-kill fault) observed nothing about the platform.
    if (worker.alive || err instanceof DeadlineExceeded) ctx.timeline.push({ ...base, start, end: Date.now(), outcome: err instanceof DeadlineExceeded ? 'timeout' : 'error', message: err.message });
    return { ok: false, answered: false, message: err.message };
  }
  const end = Date.now();
  if (reply.ok) {
    const v = judge?.(reply.result);
    ctx.timeline.push({ ...base, start, end, outcome: 'ok', ...(v ? { correct: v.correct, message: v.note } : {}) });
    return { ok: true, result: reply.result };
  }
  const message = `${reply.error.type}: ${reply.error.message}`.slice(0, 500);
  ctx.timeline.push({ ...base, start, end, outcome: 'error', status: reply.error.status ?? undefined, message });
  return { ok: false, answered: reply.error.status != null || RETRIED_STATUS.test(reply.error.message), message };
}

/** `clientCall` for callers that only need the acknowledged result. */
export async function clientOp<T>(ctx: ProbeContext, worker: PythonWorker, base: Base, args: Record<string, unknown>, judge?: (result: T) => { correct: boolean; note?: string }): Promise<T | undefined> {
  const o = await clientCall(ctx, worker, base, args, judge);
  return o.ok ? o.result : undefined;
}
