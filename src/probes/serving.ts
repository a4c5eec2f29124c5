import { http } from '../util/http.ts';
import { KSERVE_MODEL_NAME } from '../targets/local/kserve-server.ts';
import { golden, v1Predictions, v2Outputs } from './golden.ts';
import { httpOp, get } from './record.ts';
import { loop } from './loop.ts';
import type { Probe, ProbeContext } from './types.ts';

const json = { 'content-type': 'application/json' };
const INTERVAL_MS = 250;
/** Health checks run as often as a load balancer's would, in their own loop. */
const HEALTH_INTERVAL_MS = 1_000;

/**
 * MLflow scoring server: golden predictions, and its `/ping` as the health that speaks for it.
 * Each runs in its own loop, so a hung prediction cannot silence the health check (or the reverse).
 */
export class MlflowServingProbe implements Probe {
  readonly workload = 'mlflow.serving';
  readonly capabilities = ['mlflow.serving'];

  async run(ctx: ProbeContext): Promise<void> {
    const { columns, inputs, outputs } = ctx.reference.golden;
    const body = JSON.stringify({ dataframe_split: { columns, data: inputs } });
    const base = { platform: 'mlflow' as const, capability: 'mlflow.serving' };
    const url = ctx.endpoints.mlflowServing;
    await Promise.all([
      loop(ctx.signal, INTERVAL_MS, async () => {
        await httpOp(ctx, { ...base, op: 'POST /invocations' }, (t) => http(`${url}/invocations`, { method: 'POST', headers: json, body, timeoutMs: t }), golden(outputs, v1Predictions));
      }),
      loop(ctx.signal, HEALTH_INTERVAL_MS, async () => {
        await httpOp(ctx, { ...base, op: 'GET /ping', healthOf: 'mlflow.serving' }, get(`${url}/ping`));
      }),
    ]);
  }
}

/**
 * KServe V1 and V2 predict, with the model's readiness as their health: one loop each, so a
 * hang on one protocol (or on readiness) never hides what the other does in the same window.
 */
export class KservePredictProbe implements Probe {
  readonly workload = 'kserve.predict';
  readonly capabilities = ['kserve.v1', 'kserve.v2'];

  async run(ctx: ProbeContext): Promise<void> {
    const { inputs, outputs } = ctx.reference.golden;
    const v1 = JSON.stringify({ instances: inputs });
    const v2 = JSON.stringify({ id: 'probe', inputs: [{ name: 'features', shape: [inputs.length, inputs[0]?.length ?? 0], datatype: 'FP64', data: inputs.flat() }] });
    const k = ctx.endpoints.kserve;
    await Promise.all([
      loop(ctx.signal, INTERVAL_MS, async () => {
        await httpOp(ctx, { platform: 'kubeflow', capability: 'kserve.v1', op: 'POST :predict (V1)' }, (t) => http(`${k}/v1/models/${KSERVE_MODEL_NAME}:predict`, { method: 'POST', headers: json, body: v1, timeoutMs: t }), golden(outputs, v1Predictions));
      }),
      loop(ctx.signal, INTERVAL_MS, async () => {
        await httpOp(ctx, { platform: 'kubeflow', capability: 'kserve.v2', op: 'POST /infer (V2)' }, (t) => http(`${k}/v2/models/${KSERVE_MODEL_NAME}/infer`, { method: 'POST', headers: json, body: v2, timeoutMs: t }), golden(outputs, v2Outputs));
      }),
      ...['kserve.v1', 'kserve.v2'].map((cap) =>
        loop(ctx.signal, HEALTH_INTERVAL_MS, async () => {
          await httpOp(ctx, { platform: 'kubeflow', capability: cap, op: 'GET /v2/models/ref/ready', healthOf: cap }, get(`${k}/v2/models/${KSERVE_MODEL_NAME}/ready`));
        }),
      ),
    ]);
  }
}
