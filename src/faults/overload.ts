import { timeouts } from '../timeouts.ts';
import { KSERVE_MODEL_NAME } from '../targets/local/kserve-server.ts';
import type { Stack } from '../targets/stack.ts';
import { http } from '../util/http.ts';
import type { FaultModule } from './types.ts';
import { MAX_ATTACK_S, startAttack } from './vegeta.ts';

const MEASURE_MS = 3_000;
const MEASURE_CONCURRENCY = 8;
/** Hard bounds on the load generator, whatever the scenario asks. */
const MAX_LOCAL_RATE = 5_000;
const MAX_CLUSTER_RATE = 100_000;

function request(stack: Stack, edge: string): { url: string; body: string } {
  const g = stack.reference.golden;
  if (edge === 'client->mlflow-serving') return { url: `${stack.endpoints.mlflowServing}/invocations`, body: JSON.stringify({ dataframe_split: { columns: g.columns, data: g.inputs } }) };
  return { url: `${stack.endpoints.kserve}/v1/models/${KSERVE_MODEL_NAME}:predict`, body: JSON.stringify({ instances: g.inputs }) };
}

/** Closed-loop capacity: successful predictions per second with a few clients in a tight loop, bounded in time. */
export async function measureCapacity(url: string, body: string): Promise<number> {
  const until = Date.now() + MEASURE_MS;
  let ok = 0;
  await Promise.all(
    Array.from({ length: MEASURE_CONCURRENCY }, async () => {
      while (Date.now() < until) {
        const r = await http(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, timeoutMs: timeouts.httpRequest }).catch(() => undefined);
        if (r?.status === 200) ok++;
      }
    }),
  );
  return (ok * 1000) / MEASURE_MS;
}

/**
 * Open-model load with vegeta: a constant arrival rate at `multiple` × the capacity measured
 * just before, for the fault's duration (vegeta stops by itself; revert stops it sooner).
 */
export const overload: FaultModule = {
  type: 'overload',
  on: 'edge',
  targets: ['client->mlflow-serving', 'client->kserve'],
  description: 'predictions arrive at a multiple of the measured capacity',
  params: {
    multiple: { doc: 'arrival rate as a multiple of the capacity measured at the start (what the local target always uses)', min: 0.1, max: 20, default: 1.5 },
    rate: { doc: 'absolute arrival rate per second for cluster targets, e.g. 60000 for the seed report\'s 60K profile; 0 = use multiple there too', min: 0, max: MAX_CLUSTER_RATE, default: 0 },
    durationS: { doc: 'how long vegeta attacks, seconds (bounded by the fault duration too)', min: 1, max: MAX_ATTACK_S, default: 30 },
  },
  async inject(stack, edge, p) {
    const { url, body } = request(stack, edge);
    const capacity = await measureCapacity(url, body);
    // Absolute rates describe a cluster; one machine's processes get a multiple of what they can do.
    const absolute = stack.target !== 'local' && (p.rate ?? 0) > 0;
    const rate = absolute ? Math.round(p.rate!) : Math.max(1, Math.min(MAX_LOCAL_RATE, Math.round(capacity * (p.multiple ?? 1.5))));
    const attack = await startAttack({ method: 'POST', url, body, rate, durationS: p.durationS ?? 30 });
    return {
      ...attack,
      note: `capacity ${capacity.toFixed(0)}/s measured, attacking at ${rate}/s${absolute ? ' (absolute rate)' : ` (${p.multiple ?? 1.5}× capacity${p.rate ? `; the profile's ${p.rate}/s applies to cluster targets` : ''})`}`,
    };
  },
};
