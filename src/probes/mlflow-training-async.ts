import { openMlflowClient } from '../workloads/mlflow-client.ts';
import type { PythonWorker } from '../workloads/python-worker.ts';
import { clientOp } from './record.ts';
import { loop } from './loop.ts';
import type { Probe, ProbeContext } from './types.ts';

/**
 * Training with asynchronous logging (`synchronous=False`): every metric is "acknowledged" the
 * moment it is queued. The ledger holds the client to those acks after recovery.
 */
export class MlflowAsyncTrainingProbe implements Probe {
  readonly workload = 'mlflow.training-async';
  readonly capabilities = ['mlflow.tracking-async'];
  private worker: PythonWorker | undefined;
  private runId: string | undefined;

  async run(ctx: ProbeContext): Promise<void> {
    this.worker = openMlflowClient({ trackingUri: ctx.endpoints.mlflow, logDir: ctx.logDir, venv: ctx.clientVenv, settings: ctx.client, name: `training-async-${ctx.clientVenv}` });
    const w = this.worker;
    const base = { platform: 'mlflow' as const, capability: 'mlflow.tracking-async' };
    await loop(ctx.signal, 500, async (i) => {
      if (!this.runId) {
        const r = await clientOp<{ run_id: string }>(ctx, w, { ...base, op: 'start_run' }, { experiment: 'chaos-training-async' });
        if (r) {
          this.runId = r.run_id;
          ctx.ledger.add({ ...base, kind: 'run', runId: r.run_id, ended: false });
        }
        return;
      }
      const value = Math.round(1000 / (i + 1)) / 1000;
      if (await clientOp(ctx, w, { ...base, op: 'log_metric_async' }, { run_id: this.runId, key: 'loss', value, step: i })) {
        ctx.ledger.add({ ...base, kind: 'metric', runId: this.runId, key: 'loss', step: i, value });
      }
    });
  }

  async finish(ctx: ProbeContext): Promise<void> {
    if (this.worker && this.runId) {
      const base = { platform: 'mlflow' as const, capability: 'mlflow.tracking-async' };
      await clientOp(ctx, this.worker, { ...base, op: 'flush' }, {});
      if (await clientOp(ctx, this.worker, { ...base, op: 'end_run' }, { run_id: this.runId })) ctx.ledger.markEnded(this.runId);
    }
    await this.worker?.[Symbol.asyncDispose]();
  }
}
