import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openMlflowClient } from '../workloads/mlflow-client.ts';
import type { PythonWorker } from '../workloads/python-worker.ts';
import { clientOp } from './record.ts';
import { loop } from './loop.ts';
import type { Probe, ProbeContext } from './types.ts';

const INTERVAL_MS = 500;

/**
 * A training job with the real MLflow Python client: one run, a metric per step, a param and a
 * small artifact every few steps. Tracking ops are `mlflow.tracking`, artifact ops `mlflow.artifacts`.
 */
export class MlflowTrainingProbe implements Probe {
  readonly workload = 'mlflow.training';
  readonly capabilities = ['mlflow.tracking', 'mlflow.artifacts'];
  private worker: PythonWorker | undefined;
  private runId: string | undefined;

  async run(ctx: ProbeContext): Promise<void> {
    this.worker = openMlflowClient({ trackingUri: ctx.endpoints.mlflow, logDir: ctx.logDir, venv: ctx.clientVenv, settings: ctx.client, name: `training-${ctx.clientVenv}` });
    const w = this.worker;
    const tracking = { platform: 'mlflow' as const, capability: 'mlflow.tracking' };
    const artifacts = { platform: 'mlflow' as const, capability: 'mlflow.artifacts' };
    await loop(ctx.signal, INTERVAL_MS, async (i) => {
      if (!this.runId) {
        const r = await clientOp<{ run_id: string }>(ctx, w, { ...tracking, op: 'start_run' }, { experiment: 'chaos-training' });
        if (r) {
          this.runId = r.run_id;
          ctx.ledger.add({ ...tracking, kind: 'run', runId: r.run_id, ended: false });
        }
        return;
      }
      const run_id = this.runId;
      const value = Math.round(1000 / (i + 1)) / 1000;
      if (await clientOp(ctx, w, { ...tracking, op: 'log_metric' }, { run_id, key: 'loss', value, step: i })) {
        ctx.ledger.add({ ...tracking, kind: 'metric', runId: run_id, key: 'loss', step: i, value });
      }
      if (i % 3 === 0) {
        const key = `p${i}`;
        const pv = randomBytes(4).toString('hex');
        if (await clientOp(ctx, w, { ...tracking, op: 'log_param' }, { run_id, key, value: pv })) ctx.ledger.add({ ...tracking, kind: 'param', runId: run_id, key, value: pv });
        const file = join(ctx.logDir, `artifact-${i}.txt`);
        writeFileSync(file, randomBytes(2048).toString('base64'));
        const path = `checkpoints/artifact-${i}.txt`;
        const up = await clientOp<{ sha256: string }>(ctx, w, { ...artifacts, op: 'log_artifact' }, { run_id, path: file, artifact_path: 'checkpoints' });
        if (!up) return;
        ctx.ledger.add({ ...artifacts, kind: 'artifact', runId: run_id, path, sha256: up.sha256 });
        // Read it straight back, as the next stage of a pipeline would.
        await clientOp<{ sha256: string }>(ctx, w, { ...artifacts, op: 'download_artifact' }, { run_id, artifact_path: path, dst: join(ctx.logDir, 'downloads', String(i)) }, (d) =>
          d.sha256 === up.sha256 ? { correct: true } : { correct: false, note: `downloaded ${path} differs from what was uploaded` },
        );
      }
    });
  }

  async finish(ctx: ProbeContext): Promise<void> {
    if (this.worker && this.runId) {
      const ended = await clientOp(ctx, this.worker, { platform: 'mlflow', capability: 'mlflow.tracking', op: 'end_run' }, { run_id: this.runId });
      if (ended) ctx.ledger.markEnded(this.runId);
    }
    await this.worker?.[Symbol.asyncDispose]();
  }
}
