import { KSERVE_MODEL_NAME } from '../targets/local/kserve-server.ts';
import type { Stack } from '../targets/stack.ts';
import { capacityOf } from './capacity.ts';
import type { FaultModule } from './types.ts';
import { MAX_ATTACK_S, startAttack } from './vegeta.ts';

/** Hard bounds on the load generator, whatever the scenario asks. */
const MAX_LOCAL_RATE = 15_000;
const MAX_CLUSTER_RATE = 100_000;
/**
 * Requests in flight are capped at this many seconds of the server's capacity. Past it vegeta
 * waits, so any server's queue, and a probe's wait behind it, tops out near 2 s whatever its
 * capacity: far over the latency budget, well under the op deadline, and short enough that a
 * probe still gets several ops into the window. Without a cap, a slow server's queue would grow
 * for the whole attack and its verdict would depend on the attack's length and the machine.
 */
const QUEUE_SECONDS = 2;

function request(stack: Stack, edge: string): { url: string; body: string } {
  const g = stack.reference.golden;
  if (edge === 'client->mlflow-serving') return { url: `${stack.endpoints.mlflowServing}/invocations`, body: JSON.stringify({ dataframe_split: { columns: g.columns, data: g.inputs } }) };
  return { url: `${stack.endpoints.kserve}/v1/models/${KSERVE_MODEL_NAME}:predict`, body: JSON.stringify({ instances: g.inputs }) };
}

/**
 * Open-model load with vegeta: a constant arrival rate at `multiple` × the rate the server was
 * measured to sustain through the same edge (once per stack), for the fault's duration (vegeta
 * stops by itself; revert stops it sooner).
 */
export const overload: FaultModule = {
  type: 'overload',
  on: 'edge',
  targets: ['client->mlflow-serving', 'client->kserve'],
  description: 'predictions arrive at a multiple of the rate the server sustains',
  params: {
    multiple: { doc: 'arrival rate as a multiple of the sustained rate measured on this stack (what the local target always uses)', min: 0.1, max: 20, default: 1.5 },
    rate: { doc: 'absolute arrival rate per second for cluster targets, e.g. 60000 for the seed report\'s 60K profile; 0 = use multiple there too', min: 0, max: MAX_CLUSTER_RATE, default: 0 },
    durationS: { doc: 'how long vegeta attacks, seconds (bounded by the fault duration too)', min: 1, max: MAX_ATTACK_S, default: 30 },
    keepAlive: { doc: '1: the load keeps its connections alive, as client pools do; 0: a new connection for every request, so a Service spreads requests, not connections, over its pods', min: 0, max: 1, default: 1 },
  },
  async prepare(stack, edge) {
    const { url, body } = request(stack, edge);
    await capacityOf(stack.id, edge, url, body);
  },
  async inject(stack, edge, p) {
    const { url, body } = request(stack, edge);
    // Measured by `prepare` before the window opened (or by an earlier overload on this stack).
    const capacity = await capacityOf(stack.id, edge, url, body);
    // Absolute rates describe a cluster; one machine's processes get a multiple of what they can do.
    const absolute = stack.target !== 'local' && (p.rate ?? 0) > 0;
    const rate = absolute ? Math.round(p.rate!) : Math.max(1, Math.min(MAX_LOCAL_RATE, Math.round(capacity.rate * (p.multiple ?? 1.5))));
    const maxWorkers = Math.max(16, Math.min(4_000, Math.round(capacity.rate * QUEUE_SECONDS)));
    const keepAlive = (p.keepAlive ?? 1) >= 1;
    const attack = await startAttack({ method: 'POST', url, body, rate, durationS: p.durationS ?? 30, maxWorkers, keepAlive });
    const how = absolute ? 'an absolute rate' : `${p.multiple ?? 1.5}× the sustained rate${p.rate ? `; the profile's ${p.rate}/s applies to cluster targets` : ''}`;
    return {
      ...attack,
      note: `attacking at ${rate}/s (${how})${keepAlive ? '' : ', a new connection for every request'}, at most ${maxWorkers} in flight (${QUEUE_SECONDS} s of capacity); capacity ${capacity.how}, measured on this stack at ${capacity.measuredAt}`,
    };
  },
};
