import type { PythonWorker } from '../workloads/python-worker.ts';
import { MlflowRunProbe } from './mlflow-run-probe.ts';
import { clientCall, clientOp } from './record.ts';
import { loop } from './loop.ts';
import type { ProbeContext } from './types.ts';

const BASE = { platform: 'mlflow' as const, capability: 'mlflow.tracking-async' };

/**
 * Training with asynchronous logging (`synchronous=False`): every metric is "acknowledged" the
 * moment it is queued. The ledger holds the client to those acks after recovery.
 */
export class MlflowAsyncTrainingProbe extends MlflowRunProbe {
  readonly workload = 'mlflow.training-async';
  readonly capabilities = [BASE.capability];

  constructor() {
    super(BASE, 'chaos-training-async', 'training-async');
  }

  async run(ctx: ProbeContext): Promise<void> {
        await loop(ctx.signal, 500, async (i) => {
      const w = this.client(ctx);
      if (!this.runId) return this.startRun(ctx, w);
      const value = Math.round(1000 / (i + 1)) / 1000;
      const queued = await clientCall(ctx, w, { ...BASE, op: 'log_metric_async' }, { run_id: this.runId, key: 'loss', value, step: i });
      ctx.ledger.record(BASE.capability, { kind: 'metric', runId: this.runId, key: 'loss', step: i, value }, queued);
    });
  }

  protected override async beforeEnd(ctx: ProbeContext, w: PythonWorker): Promise<void> {
    await clientOp(ctx, w, { ...BASE, op: 'flush' }, {});
  }
}
