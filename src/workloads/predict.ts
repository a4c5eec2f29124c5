import { http, type HttpResult } from '../util/http.ts';
import { KSERVE_MODEL_NAME } from '../targets/local/kserve-server.ts';

/** One prediction request to a serving endpoint, as a user would send it. */
export interface PredictOutcome {
  http: HttpResult;
  /** Class labels when the server answered 200 with a parseable body. */
  predictions?: number[];
}

const json = { 'content-type': 'application/json' };

function parse(res: HttpResult, pick: (body: unknown) => unknown): PredictOutcome {
  if (res.status !== 200) return { http: res };
  try {
    const value = pick(JSON.parse(res.body));
    return Array.isArray(value) ? { http: res, predictions: value.map(Number) } : { http: res };
  } catch {
    return { http: res };
  }
}

/** MLflow scoring server: POST /invocations with the `dataframe_split` format. */
export async function predictMlflow(baseUrl: string, columns: string[], rows: number[][], timeoutMs?: number): Promise<PredictOutcome> {
  const res = await http(`${baseUrl}/invocations`, { method: 'POST', headers: json, body: JSON.stringify({ dataframe_split: { columns, data: rows } }), timeoutMs });
  return parse(res, (b) => (b as { predictions?: unknown }).predictions);
}

/** KServe V1 protocol: POST /v1/models/{name}:predict. */
export async function predictKserveV1(baseUrl: string, rows: number[][], timeoutMs?: number): Promise<PredictOutcome> {
  const res = await http(`${baseUrl}/v1/models/${KSERVE_MODEL_NAME}:predict`, { method: 'POST', headers: json, body: JSON.stringify({ instances: rows }), timeoutMs });
  return parse(res, (b) => (b as { predictions?: unknown }).predictions);
}

/** KServe V2 (Open Inference Protocol): POST /v2/models/{name}/infer. */
export async function predictKserveV2(baseUrl: string, rows: number[][], timeoutMs?: number): Promise<PredictOutcome> {
  const body = { id: 'golden', inputs: [{ name: 'features', shape: [rows.length, rows[0]?.length ?? 0], datatype: 'FP64', data: rows.flat() }] };
  const res = await http(`${baseUrl}/v2/models/${KSERVE_MODEL_NAME}/infer`, { method: 'POST', headers: json, body: JSON.stringify(body), timeoutMs });
  return parse(res, (b) => (b as { outputs?: { data?: unknown }[] }).outputs?.[0]?.data);
}
