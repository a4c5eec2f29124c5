import { KSERVE_MODEL_NAME } from '../targets/local/kserve-server.ts';
import { http } from '../util/http.ts';
import { golden, v2Outputs } from './golden.ts';
import { httpOp } from './record.ts';
import { loop } from './loop.ts';
import type { Probe, ProbeContext } from './types.ts';

const json = { 'content-type': 'application/json' };

/**
 * Protocol skew on KServe: while the window is open, a V1 client's request (`instances`) goes to
 * the V2 inference route, as when a V1 client is pointed at an endpoint that only speaks the Open
 * Inference Protocol, and a V2 request goes to the V1 route. Valid requests before and after.
 * The right answer names the protocol mismatch with a 4xx; a 200 means something half-worked.
 */
export class KserveProtocolSkewProbe implements Probe {
  readonly workload = 'kserve.protocol-skew';
  readonly capabilities = ['kserve.protocol'];

  async run(ctx: ProbeContext): Promise<void> {
    const { inputs, outputs } = ctx.reference.golden;
    const v1Body = JSON.stringify({ instances: inputs });
    const v2Body = JSON.stringify({ id: 'skew', inputs: [{ name: 'features', shape: [inputs.length, inputs[0]?.length ?? 0], datatype: 'FP64', data: inputs.flat() }] });
    const v1Url = `${ctx.endpoints.kserve}/v1/models/${KSERVE_MODEL_NAME}:predict`;
    const v2Url = `${ctx.endpoints.kserve}/v2/models/${KSERVE_MODEL_NAME}/infer`;
    const base = { platform: 'kubeflow' as const, capability: 'kserve.protocol' };
    const post = (url: string, body: string) => (t: number) => http(url, { method: 'POST', headers: json, body, timeoutMs: t });
    const accepted = (what: string) => () => ({ correct: false, note: `answered 200 to ${what}` });
    await loop(ctx.signal, 250, async (i) => {
      if (!ctx.faultActive()) {
        await httpOp(ctx, { ...base, op: 'V2 client on the V2 route' }, post(v2Url, v2Body), golden(outputs, v2Outputs));
        return;
      }
      if (i % 2 === 0) await httpOp(ctx, { ...base, op: 'V1 client on the V2 route' }, post(v2Url, v1Body), accepted('a V1 request on the V2 route'));
      else await httpOp(ctx, { ...base, op: 'V2 client on the V1 route' }, post(v1Url, v2Body), accepted('a V2 request on the V1 route'));
    });
  }
}
