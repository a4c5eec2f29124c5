import { setTimeout as pace } from 'node:timers/promises';
import { CLIENT_POD_HEADER } from '../mesh/envoy-config.ts';
import { KSERVE_MODEL_NAME } from '../targets/local/kserve-server.ts';
import { http } from '../util/http.ts';
import { golden, v1Predictions } from './golden.ts';
import { httpOp } from './record.ts';
import type { Probe, ProbeContext } from './types.ts';

/**
 * Intermittent V1 predictions from several client pods, each sending one request, waiting about
 * `everyMs` after the answer, and sending the next: a dashboard or a batch step polling a model.
 * Each pod's connection through its sidecar then sits idle at the server for about `everyMs`
 * between requests, which is what a server's idle keep-alive races against.
 *
 * The server's idle time is the client's wait plus the time the answer and the next request
 * spend on the way: the pod's last round trip less the server's own few milliseconds. So each
 * wait is `everyMs` less that round trip, spread by a quarter of it either way (at least
 * MIN_JITTER_MS): across pods and periods every offset near `everyMs` is tried, and a race
 * a fraction of a millisecond wide, which steady traffic meets over hours, is met within a minute.
 * Without a mesh section: one pod, every 5 s.
 */
const MIN_JITTER_MS = 3;
/** Each pod's own bound: 10 minutes of polling at 5 s, whatever the scenario asks. */
const MAX_POLLS_PER_POD = 120;

export class KservePollProbe implements Probe {
  readonly workload = 'kserve.poll';
  readonly capabilities = ['kserve.v1'];

  async run(ctx: ProbeContext): Promise<void> {
    const { pods, everyMs } = ctx.meshLoad ?? { pods: 1, everyMs: 5_000 };
    const { inputs, outputs } = ctx.reference.golden;
    const body = JSON.stringify({ instances: inputs });
    const url = `${ctx.endpoints.kserve}/v1/models/${KSERVE_MODEL_NAME}:predict`;
    await Promise.all(Array.from({ length: pods }, async (_, pod) => {
      const headers = { 'content-type': 'application/json', ...(pods > 1 ? { [CLIENT_POD_HEADER]: String(pod) } : {}) };
      // Pods start spread over one period, as independent pods would.
      await pace((everyMs * pod) / pods, undefined, { signal: ctx.signal }).catch(() => undefined);
      for (let i = 0; i < MAX_POLLS_PER_POD && !ctx.signal.aborted; i++) {
        const sent = performance.now();
        await httpOp(ctx, { platform: 'kubeflow', capability: 'kserve.v1', op: 'POST :predict (V1, polling)' }, (t) => http(url, { method: 'POST', headers, body, timeoutMs: t }), golden(outputs, v1Predictions));
        const roundTrip = performance.now() - sent;
        const jitter = Math.max(MIN_JITTER_MS, roundTrip / 4);
        const wait = everyMs - roundTrip - jitter + Math.random() * 2 * jitter;
        await pace(wait, undefined, { signal: ctx.signal }).catch(() => undefined);
      }
    }));
  }
}
