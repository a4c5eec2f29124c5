import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tool } from '../paths.ts';
import { timeouts } from '../timeouts.ts';
import { KSERVE_MODEL_NAME } from '../targets/local/kserve-server.ts';
import { procInfo, signalGroup } from '../targets/local/proc.ts';
import type { Stack } from '../targets/stack.ts';
import { http } from '../util/http.ts';
import { pollUntil } from '../util/poll.ts';
import type { FaultModule } from './types.ts';

const MEASURE_MS = 3_000;
const MEASURE_CONCURRENCY = 8;
/** Hard bounds on the load generator, whatever the scenario asks. */
const MAX_LOCAL_RATE = 5_000;
const MAX_CLUSTER_RATE = 100_000;
const MAX_DURATION_S = 300;

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
    durationS: { doc: 'how long vegeta attacks, seconds (bounded by the fault duration too)', min: 1, max: MAX_DURATION_S, default: 30 },
  },
  async inject(stack, edge, p) {
    const { url, body } = request(stack, edge);
    const capacity = await measureCapacity(url, body);
    // Absolute rates describe a cluster; one machine's processes get a multiple of what they can do.
    const absolute = stack.target !== 'local' && (p.rate ?? 0) > 0;
    const rate = absolute ? Math.round(p.rate!) : Math.max(1, Math.min(MAX_LOCAL_RATE, Math.round(capacity * (p.multiple ?? 1.5))));
    const dir = mkdtempSync(join(tmpdir(), 'mlops-chaos-vegeta-'));
    writeFileSync(join(dir, 'targets.json'), `${JSON.stringify({ method: 'POST', url, body: Buffer.from(body).toString('base64'), header: { 'Content-Type': ['application/json'] } })}\n`);
    const child = spawn(
      tool('vegeta'),
      ['attack', '-format=json', `-targets=${join(dir, 'targets.json')}`, `-rate=${rate}/s`, `-duration=${p.durationS ?? 30}s`, '-timeout=30s', '-max-workers=512', `-output=${join(dir, 'results.bin')}`],
      { detached: true, stdio: 'ignore' },
    );
    const startTime = procInfo(child.pid ?? -1)?.startTime ?? 0;
    // vegeta writes a result per finished request: a growing file proves the load is on.
    const results = join(dir, 'results.bin');
    await pollUntil('vegeta to record its first results', timeouts.httpRequest * 3, async () => (existsSync(results) && statSync(results).size > 0 ? { done: true, value: undefined } : { done: false }));
    return {
      undo: async () => {
        if (child.exitCode === null && child.pid) {
          const gone = new Promise((r) => child.once('exit', r));
          signalGroup(child.pid, startTime, 'SIGKILL');
          await gone;
        }
        rmSync(dir, { recursive: true, force: true });
      },
      persisted: { kind: 'kill-group', pid: child.pid ?? -1, startTime },
      note: `capacity ${capacity.toFixed(0)}/s measured, attacking at ${rate}/s${absolute ? ' (absolute rate)' : ` (${p.multiple ?? 1.5}× capacity${p.rate ? `; the profile's ${p.rate}/s applies to cluster targets` : ''})`}`,
    };
  },
};
