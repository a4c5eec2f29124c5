import type { FaultModule, Injected } from './types.ts';
import { addToxic } from './toxic.ts';
import { MAX_ATTACK_S, startAttack } from './vegeta.ts';

/** A read every tracking client makes, and one that takes a pooled connection each time. */
const SEARCH_BODY = JSON.stringify({ experiment_ids: ['0'], max_results: 1 });

/**
 * The tracking server's SQLAlchemy pool saturated by concurrent clients: the server is restarted
 * with a small MLFLOW_SQLALCHEMYSTORE_POOL_SIZE / MAX_OVERFLOW (per worker), a closed loop of
 * clients searches runs through `client->mlflow`, and each query may be slowed on
 * `mlflow->postgres` so connections are held long enough for the pool's 30 s timeout to matter.
 * Revert stops the clients, removes the latency and restarts the server with its defaults.
 */
export const poolSaturation: FaultModule = {
  type: 'pool-saturation',
  on: 'process',
  targets: ['mlflow'],
  description: "the tracking server's database pool is smaller than its concurrent clients need",
  params: {
    poolSize: { doc: 'MLFLOW_SQLALCHEMYSTORE_POOL_SIZE per server worker', min: 1, max: 100, default: 2 },
    // MLflow passes max_overflow only when it is truthy, so 0 would silently mean SQLAlchemy's 10.
    maxOverflow: { doc: 'MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW per worker (≥ 1: MLflow ignores 0)', min: 1, max: 100, default: 1 },
    clients: { doc: 'concurrent clients in a closed loop', min: 1, max: 512, default: 64 },
    queryLatencyMs: { doc: 'latency added to every database round trip while the clients run, ms', min: 0, max: 10_000, default: 0 },
    durationS: { doc: 'how long the clients run, seconds (bounded by the fault duration too)', min: 1, max: MAX_ATTACK_S, default: 45 },
  },
  async inject(stack, _target, p) {
    const mlflow = stack.process('mlflow');
    await mlflow.restart({ MLFLOW_SQLALCHEMYSTORE_POOL_SIZE: String(p.poolSize ?? 2), MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW: String(p.maxOverflow ?? 1) });
    const undos: Injected['undo'][] = [() => mlflow.restart()];
    try {
      if (p.queryLatencyMs) undos.unshift((await addToxic(stack, 'mlflow->postgres', 'latency', { latency: p.queryLatencyMs, jitter: 0 })).undo);
      const attack = await startAttack({ method: 'POST', url: `${stack.endpoints.mlflow}/api/2.0/mlflow/runs/search`, body: SEARCH_BODY, rate: { max: true, workers: p.clients ?? 64 }, durationS: p.durationS ?? 45 });
      undos.unshift(attack.undo);
      return {
        // The restart with the small pool sets the stage; the saturation starts with the clients.
        activeAt: Date.now(),
        undo: async () => {
          for (const u of undos) await u();
        },
        persisted: attack.persisted,
        note: `tracking server restarted with pool ${p.poolSize ?? 2} + overflow ${p.maxOverflow ?? 1} per worker; ${p.clients ?? 64} clients searching runs in a closed loop${p.queryLatencyMs ? `, ${p.queryLatencyMs} ms per database round trip` : ''}`,
      };
    } catch (err) {
      for (const u of undos) await u();
      throw err;
    }
  },
};
