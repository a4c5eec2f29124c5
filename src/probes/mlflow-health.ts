import { get, httpOp } from './record.ts';
import { loop } from './loop.ts';
import type { Probe, ProbeContext } from './types.ts';

/**
 * What a load balancer or an uptime check watches: MLflow's `/health`. It claims to speak for
 * tracking, artifacts and the registry; the lying-health rule holds it to that.
 */
export class MlflowHealthProbe implements Probe {
  readonly workload = 'mlflow.health';
  readonly capabilities: string[] = [];

  async run(ctx: ProbeContext): Promise<void> {
    await loop(ctx.signal, 1_000, async () => {
      for (const cap of ['mlflow.tracking', 'mlflow.artifacts', 'mlflow.registry']) {
        await httpOp(ctx, { platform: 'mlflow', capability: cap, op: 'GET /health', healthOf: cap }, get(`${ctx.endpoints.mlflow}/health`));
      }
    });
  }
}
