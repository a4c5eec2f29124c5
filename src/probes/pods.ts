import { setTimeout as pace } from 'node:timers/promises';
import { CLIENT_POD_HEADER, UPSTREAM_SERVICE_TIME_HEADER } from '../mesh/envoy-config.ts';
import type { HttpResult } from '../util/http.ts';
import type { ProbeContext } from './types.ts';

/**
 * Intermittent calls from several client pods, each sending one request, waiting about `everyMs`
 * after the answer, and sending the next: a dashboard or a deployment polling a server. Each pod's
 * connection through its sidecar then sits idle at the server for about `everyMs` between
 * requests, which is what a server's idle keep-alive races against.
 *
 * The server's idle time is the client's wait plus the time the answer and the next request
 * spend on the way: the pod's last round trip less the server's own time. Behind a sidecar, the
 * answer's `x-envoy-upstream-service-time` is that time (Envoy's wait for the server, which on
 * loopback is the server's work); without one, the whole round trip counts as the way. So each
 * wait is `everyMs` less the way, spread by a quarter of it either way (at least MIN_JITTER_MS):
 * across pods and periods every offset near `everyMs` is tried, and a race a fraction of a
 * millisecond wide, which steady traffic meets over hours, is met within a minute. Without the
 * server's time taken out, a server that works 20 ms an answer (MLflow's registry) would be
 * aimed at 20 ms before its close and never met.
 * Without a mesh section: one pod, every 5 s.
 */
const MIN_JITTER_MS = 3;
/** Each pod's own bound: 10 minutes of polling at 5 s, whatever the scenario asks. */
const MAX_POLLS_PER_POD = 120;

/**
 * Runs `call` from each pod until the signal aborts; `headers` route a pod's call to its own pool
 * in the client sidecar (CLIENT_POD_HEADER) when there is more than one.
 */
export async function pollFromPods(ctx: ProbeContext, call: (headers: Record<string, string>) => Promise<HttpResult | undefined>): Promise<void> {
  const { pods, everyMs } = ctx.meshLoad ?? { pods: 1, everyMs: 5_000 };
  await Promise.all(Array.from({ length: pods }, async (_, pod) => {
    const headers: Record<string, string> = pods > 1 ? { [CLIENT_POD_HEADER]: String(pod) } : {};
    // Pods start spread over one period, as independent pods would.
    await pace((everyMs * pod) / pods, undefined, { signal: ctx.signal }).catch(() => undefined);
    for (let i = 0; i < MAX_POLLS_PER_POD && !ctx.signal.aborted; i++) {
      const sent = performance.now();
      const res = await call(headers);
      const wait = nextWait(everyMs, performance.now() - sent, res, Math.random());
      await pace(wait, undefined, { signal: ctx.signal }).catch(() => undefined);
    }
  }));
}

/**
 * The wait before a pod's next call, from its last round trip and answer, so that the server's idle
 * time is `everyMs` give or take the jitter; `random` in [0, 1).
 */
export function nextWait(everyMs: number, roundTripMs: number, res: HttpResult | undefined, random: number): number {
  const way = Math.max(0, roundTripMs - serverMs(res));
  const jitter = Math.max(MIN_JITTER_MS, way / 4);
  return everyMs - way - jitter + random * 2 * jitter;
}

/** The server's own time for an answer, as the sidecar measured it; 0 without a sidecar's header. */
function serverMs(res: HttpResult | undefined): number {
  const v = Number(res?.headers[UPSTREAM_SERVICE_TIME_HEADER]);
  return Number.isFinite(v) && v > 0 ? v : 0;
}
