import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MlflowRunProbe } from './mlflow-run-probe.ts';
import { clientCall, clientOp } from './record.ts';
import { loop } from './loop.ts';
import type { ProbeContext } from './types.ts';

const TRACKING_INTERVAL_MS = 500;
/**
 * An upload and its read-back every 1.5 s: the artifact rate the job had when it logged one every
 * third 500 ms step (so S3 load, ledger size and earlier results stay comparable), and still
 * 2 ops per 1.5 s, enough for TTD/TTR at second resolution and for the 3-ok recovery streak.
 */
const ARTIFACT_INTERVAL_MS = 1_500;
const TRACKING = { platform: 'mlflow' as const, capability: 'mlflow.tracking' };
const ARTIFACTS = { platform: 'mlflow' as const, capability: 'mlflow.artifacts' };

/**
 * A training job with the real MLflow Python client: one run, a metric per step and a param every
 * few steps (`mlflow.tracking`), and beside them a small artifact uploaded and read back
 * (`mlflow.artifacts`). Tracking, uploads and read-backs run in separate loops, each with its own
 * client process, sharing the run: a hang in one (the database blackholed) cannot starve another
 * of ops. Every write goes into the ledger, acknowledged or failed, so both lost and phantom writes show.
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
    await Promise.all([this.tracking(ctx), ...(this.withArtifacts ? [this.artifacts(ctx)] : [])]);
  }

  private tracking(ctx: ProbeContext): Promise<void> {
    return loop(ctx.signal, TRACKING_INTERVAL_MS, async (i) => {
      const w = await this.warmClient(ctx, 'tracking');
      if (!this.runId) return this.startRun(ctx, w);
      const run_id = this.runId;
      const value = Math.round(1000 / (i + 1)) / 1000;
      const logged = await clientCall(ctx, w, { ...TRACKING, op: 'log_metric' }, { run_id, key: 'loss', value, step: i });
      ctx.ledger.record(TRACKING.capability, { kind: 'metric', runId: run_id, key: 'loss', step: i, value }, logged);
      if (i % 3 !== 0) return;
      const key = `p${i}`;
      const pv = randomBytes(4).toString('hex');
      ctx.ledger.record(TRACKING.capability, { kind: 'param', runId: run_id, key, value: pv }, await clientCall(ctx, w, { ...TRACKING, op: 'log_param' }, { run_id, key, value: pv }));
    });
  }

  /**
   * Uploads and read-backs in loops of their own, each with its own client: a read-back whose
   * server-side S3 call retries through a whole outage (seen: 29 s, then a success) would
   * otherwise hold the next upload back, and the window would see one slow op where the
   * uploads it kept back fail at once. The read-back takes the newest acknowledged upload it has
   * not read yet; the ledger reads every one back after the experiment anyway.
   */
  private async artifacts(ctx: ProbeContext): Promise<void> {
    let unread: { path: string; sha256: string; i: number; runId: string; artifactUri: string | undefined } | undefined;
    const uploads = loop(ctx.signal, ARTIFACT_INTERVAL_MS, async (i) => {
      const w = await this.warmClient(ctx, 'artifacts');
      if (!this.runId) return this.startRun(ctx, w);
      const run_id = this.runId;
      const file = join(ctx.logDir, `artifact-${i}.txt`);
      const content = randomBytes(2048).toString('base64');
      writeFileSync(file, content);
      const sha256 = createHash('sha256').update(content).digest('hex');
      const path = `checkpoints/artifact-${i}.txt`;
      const up = await clientCall<{ sha256: string }>(ctx, w, { ...ARTIFACTS, op: 'log_artifact' }, { run_id, path: file, artifact_path: 'checkpoints' });
      ctx.ledger.record(ARTIFACTS.capability, { kind: 'artifact', runId: run_id, path, sha256 }, up);
      if (up.ok) unread = { path, sha256, i, runId: run_id, artifactUri: this.artifactUri };
    });
    const readBacks = loop(ctx.signal, ARTIFACT_INTERVAL_MS, async () => {
      const w = await this.warmClient(ctx, 'artifact-reads');
      const a = unread;
      if (!a) return;
      unread = undefined;
      // Read it straight back by the run's artifact URI, as the next stage of a pipeline would:
      // the artifact path alone (by run id, the client would ask the database first, and a
      // database fault would show up here as well as in tracking).
      await clientOp<{ sha256: string }>(ctx, w, { ...ARTIFACTS, op: 'download_artifact' }, { run_id: a.runId, artifact_uri: a.artifactUri, artifact_path: a.path, dst: join(ctx.logDir, 'downloads', String(a.i)) }, (d) =>
        d.sha256 === a.sha256 ? { correct: true } : { correct: false, note: `downloaded ${a.path} differs from what was uploaded` },
      );
    });
    await Promise.all([uploads, readBacks]);
  }
}
