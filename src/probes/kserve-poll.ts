import { KSERVE_MODEL_NAME } from '../targets/local/kserve-server.ts';
import { http } from '../util/http.ts';
import { golden, v1Predictions } from './golden.ts';
import { pollFromPods } from './pods.ts';
import { httpOp } from './record.ts';
import type { Probe, ProbeContext } from './types.ts';

/** Intermittent V1 predictions from the mesh's client pods (see `pollFromPods`): a model polled. */
export class KservePollProbe implements Probe {
  readonly workload = 'kserve.poll';
  readonly capabilities = ['kserve.v1'];

  async run(ctx: ProbeContext): Promise<void> {
    const { inputs, outputs } = ctx.reference.golden;
    const body = JSON.stringify({ instances: inputs });
    const url = `${ctx.endpoints.kserve}/v1/models/${KSERVE_MODEL_NAME}:predict`;
    await pollFromPods(ctx, (headers) =>
      httpOp(ctx, { platform: 'kubeflow', capability: 'kserve.v1', op: 'POST :predict (V1, polling)' }, (t) => http(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, timeoutMs: t }), golden(outputs, v1Predictions)),
    );
  }
}
