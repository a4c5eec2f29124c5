import { http } from '../util/http.ts';
import { KSERVE_MODEL_NAME } from '../targets/local/kserve-server.ts';
import { golden, v1Predictions } from './golden.ts';
import { httpOp } from './record.ts';
import { loop } from './loop.ts';
import type { Probe, ProbeContext } from './types.ts';

interface Case {
  name: string;
  body: string;
  contentType: string;
  /** For a request that is big but valid: a 200 must carry every prediction. */
  expect?: number[];
}

/** Far above any prediction request the suite's clients send (about 1 KiB), as a runaway batch job would send it. */
const OVERSIZED_BYTES = 16 * 1024 * 1024;

/** The golden rows repeated until the body passes OVERSIZED_BYTES; a 200 must repeat the golden outputs as often. */
function oversized(rows: number[][], outputs: number[], body: (rows: number[][]) => string): { body: string; expect: number[] } {
  const reps = Math.ceil(OVERSIZED_BYTES / body(rows).length);
  return { body: body(Array.from({ length: reps }, () => rows).flat()), expect: Array.from({ length: reps }, () => outputs).flat() };
}

/**
 * A client making mistakes (and one sending a valid but oversized batch), to both servers, while the scenario's window is open (valid
 * requests before and after, so steady state and recovery mean something). The right answer to
 * a mistake is a 4xx that names it; a 200 means the server quietly ignored or coerced something.
 */
export class BadInputProbe implements Probe {
  readonly workload = 'serving.bad-input';
  readonly capabilities = ['mlflow.serving.input', 'kserve.input'];

  async run(ctx: ProbeContext): Promise<void> {
    const { columns, inputs, outputs } = ctx.reference.golden;
    const json = 'application/json';
    const split = (cols: string[], rows: unknown[][]) => JSON.stringify({ dataframe_split: { columns: cols, data: rows } });
    const mlflowCases: Case[] = [
      { name: 'missing column', body: split(columns.slice(0, -1), inputs.map((r) => r.slice(0, -1))), contentType: json },
      { name: 'extra column', body: split([...columns, 'f_extra'], inputs.map((r) => [...r, 1])), contentType: json },
      { name: 'wrong type', body: split(columns, inputs.map((r) => ['not-a-number', ...r.slice(1)])), contentType: json },
      { name: 'wrong content type', body: split(columns, inputs), contentType: 'text/plain' },
      { name: 'empty body', body: '', contentType: json },
      { name: 'oversized payload', contentType: json, ...oversized(inputs, outputs, (rows) => split(columns, rows)) },
    ];
    const kserveCases: Case[] = [
      { name: 'missing feature', body: JSON.stringify({ instances: inputs.map((r) => r.slice(0, -1)) }), contentType: json },
      { name: 'extra feature', body: JSON.stringify({ instances: inputs.map((r) => [...r, 1]) }), contentType: json },
      { name: 'wrong type', body: JSON.stringify({ instances: inputs.map((r) => ['not-a-number', ...r.slice(1)]) }), contentType: json },
      { name: 'wrong content type', body: JSON.stringify({ instances: inputs }), contentType: 'text/plain' },
      { name: 'empty body', body: '', contentType: json },
      { name: 'oversized payload', contentType: json, ...oversized(inputs, outputs, (rows) => JSON.stringify({ instances: rows })) },
    ];
    const valid: [Case, Case] = [
      { name: 'valid', body: split(columns, inputs), contentType: json },
      { name: 'valid', body: JSON.stringify({ instances: inputs }), contentType: json },
    ];
    const send = (url: string, c: Case) => (t: number) => http(url, { method: 'POST', headers: { 'content-type': c.contentType }, body: c.body, timeoutMs: t });
    // A 200 to a mistake is wrong; a 200 to a valid request is right; a big valid request must be answered in full.
    const judged = (c: Case) => (res: { body: string }) =>
      c.expect ? golden(c.expect, v1Predictions)(res) : c.name === 'valid' ? { correct: true } : { correct: false, note: `accepted a request with a ${c.name}` };
    // One loop per server: a server that hangs on a mistake must not hide how the other answers.
    const mistakes = (capability: string, platform: 'mlflow' | 'kubeflow', url: string, cases: Case[], fine: Case, label: string) =>
      loop(ctx.signal, 250, async (i) => {
        const c = ctx.faultActive() ? cases[i % cases.length]! : fine;
        await httpOp(ctx, { platform, capability, op: `${label}: ${c.name}` }, send(url, c), judged(c));
      });
    await Promise.all([
      mistakes('mlflow.serving.input', 'mlflow', `${ctx.endpoints.mlflowServing}/invocations`, mlflowCases, valid[0], 'invocations'),
      mistakes('kserve.input', 'kubeflow', `${ctx.endpoints.kserve}/v1/models/${KSERVE_MODEL_NAME}:predict`, kserveCases, valid[1], 'V1 predict'),
    ]);
  }
}
