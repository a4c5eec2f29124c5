import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MlflowRunProbe } from './mlflow-run-probe.ts';
import { clientCall, clientOp } from './record.ts';
import { loop } from './loop.ts';
import type { ProbeContext } from './types.ts';

const INTERVAL_MS = 500;
const TRACKING = { platform: 'mlflow' as const, capability: 'mlflow.tracking' };
const ARTIFACTS = { platform: 'mlflow' as const, capability: 'mlflow.artifacts' };

/**
 * A training job with the real MLflow Python client: one run, a metric per step, a param and a
 * small artifact every few steps. Tracking ops are `mlflow.tracking`, artifact ops `mlflow.artifacts`.
 * Every write goes into the ledger, acknowledged or failed, so both lost and phantom writes show.
 */
export class MlflowTrainingProbe extends MlflowRunProbe {
  readonly workload: string;
  readonly capabilities: string[];

  /** Without artifacts (`mlflow.metrics`): a job that only logs metrics and params, for scenarios about tracking alone. */
  constructor(private readonly withArtifacts = true) {
    super(TRACKING, 'chaos-training', withArtifacts ? 'training' : 'metrics');
    this.workload = withArtifacts ? 'mlflow.training' : 'mlflow.metrics';
    this.capabilities = withArtifacts ? [TRACKING.capability, ARTIFACTS.capability] : [TRACKING.capability];
  }

  async run(ctx: ProbeContext): Promise<void> {
        await loop(ctx.signal, INTERVAL_MS, async (i) => {
      const w = this.client(ctx);
      if (!this.runId) return this.startRun(ctx, w);
      const run_id = this.runId;
      const value = Math.round(1000 / (i + 1)) / 1000;
      const logged = await clientCall(ctx, w, { ...TRACKING, op: 'log_metric' }, { run_id, key: 'loss', value, step: i });
      ctx.ledger.record(TRACKING.capability, { kind: 'metric', runId: run_id, key: 'loss', step: i, value }, logged);
      if (i % 3 !== 0) return;
      const key = `p${i}`;
      const pv = randomBytes(4).toString('hex');
      ctx.ledger.record(TRACKING.capability, { kind: 'param', runId: run_id, key, value: pv }, await clientCall(ctx, w, { ...TRACKING, op: 'log_param' }, { run_id, key, value: pv }));
      if (!this.withArtifacts) return;
      const file = join(ctx.logDir, `artifact-${i}.txt`);
      const content = randomBytes(2048).toString('base64');
      writeFileSync(file, content);
      const sha256 = createHash('sha256').update(content).digest('hex');
      const path = `checkpoints/artifact-${i}.txt`;
      const up = await clientCall<{ sha256: string }>(ctx, w, { ...ARTIFACTS, op: 'log_artifact' }, { run_id, path: file, artifact_path: 'checkpoints' });
      ctx.ledger.record(ARTIFACTS.capability, { kind: 'artifact', runId: run_id, path, sha256 }, up);
      if (!up.ok) return;
      // Read it straight back, as the next stage of a pipeline would.
      await clientOp<{ sha256: string }>(ctx, w, { ...ARTIFACTS, op: 'download_artifact' }, { run_id, artifact_path: path, dst: join(ctx.logDir, 'downloads', String(i)) }, (d) =>
        d.sha256 === sha256 ? { correct: true } : { correct: false, note: `downloaded ${path} differs from what was uploaded` },
      );
    });
  }
}
