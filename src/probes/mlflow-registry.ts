import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openMlflowClient } from '../workloads/mlflow-client.ts';
import type { PythonWorker } from '../workloads/python-worker.ts';
import { clientOp } from './record.ts';
import { loop } from './loop.ts';
import type { Probe, ProbeContext } from './types.ts';

const MODEL = 'chaos-registry-model';

/**
 * The registry as deployments and pipelines use it: resolve the `champion` alias every second,
 * and every few seconds upload a model file and register it. Like autologging (PR #4259), the
 * pipeline does not stop when the upload fails: the ledger then asks whether a version was
 * accepted whose source does not exist (mlflow#4630).
 */
export class MlflowRegistryProbe implements Probe {
  readonly workload = 'mlflow.registry';
  readonly capabilities = ['mlflow.registry'];
  private worker: PythonWorker | undefined;
  private runId: string | undefined;

  async run(ctx: ProbeContext): Promise<void> {
    this.worker = openMlflowClient({ trackingUri: ctx.endpoints.mlflow, logDir: ctx.logDir, venv: ctx.clientVenv, settings: ctx.client, name: `registry-${ctx.clientVenv}` });
    const w = this.worker;
    const base = { platform: 'mlflow' as const, capability: 'mlflow.registry' };
    await loop(ctx.signal, 1_000, async (i) => {
      await clientOp(ctx, w, { ...base, op: 'get_alias' }, { name: ctx.reference.modelName, alias: ctx.reference.alias });
      if (i % 4 !== 0) return;
      if (!this.runId) {
        const r = await clientOp<{ run_id: string }>(ctx, w, { ...base, op: 'start_run' }, { experiment: 'chaos-registry' });
        if (r) {
          this.runId = r.run_id;
          ctx.ledger.add({ ...base, kind: 'run', runId: r.run_id, ended: false });
        }
        return;
      }
      const dir = `model-${i}`;
      const file = join(ctx.logDir, `registry-model-${i}.txt`);
      writeFileSync(file, randomBytes(512).toString('base64'));
      // The upload's own failure is an event; the registration goes ahead regardless.
      await clientOp(ctx, w, { ...base, op: 'log_artifact' }, { run_id: this.runId, path: file, artifact_path: dir });
      const mv = await clientOp<{ version: string }>(ctx, w, { ...base, op: 'register' }, { name: MODEL, source: `runs:/${this.runId}/${dir}`, run_id: this.runId });
      if (mv) ctx.ledger.add({ ...base, kind: 'model-version', name: MODEL, version: mv.version, runId: this.runId, artifact: `${dir}/registry-model-${i}.txt` });
    });
  }

  async finish(ctx: ProbeContext): Promise<void> {
    if (this.worker && this.runId) {
      if (await clientOp(ctx, this.worker, { platform: 'mlflow', capability: 'mlflow.registry', op: 'end_run' }, { run_id: this.runId })) ctx.ledger.markEnded(this.runId);
    }
    await this.worker?.[Symbol.asyncDispose]();
  }
}
