import { join } from 'node:path';
import { roleBin } from '../targets/venv-overrides.ts';
import { runPipeline } from '../workloads/kfp-pipeline.ts';
import { loop } from './loop.ts';
import type { Probe, ProbeContext } from './types.ts';

/** Whole KFP pipeline runs (train → evaluate → upload/register), back to back. */
export class KfpPipelineProbe implements Probe {
  readonly workload = 'kfp.pipeline';
  readonly capabilities = ['kfp.pipeline'];
  /**
   * One op is a whole run: three tasks, each its own Python process, and dozens of calls to MLflow
   * and S3, about as long as a fault window. Two runs overlapping the window are the judgement
   * (one met the fault from its start or to its end); one ok run is steady state and recovery.
   */
  readonly longOps = { minOpsInWindow: 2, okStreak: 1 };

  async run(ctx: ProbeContext): Promise<void> {
    await loop(ctx.signal, 1_000, async () => {
      const start = Date.now();
      try {
        const r = await runPipeline({
          mlflowUrl: ctx.endpoints.kfpMlflow, s3Url: ctx.endpoints.kfpS3, bucket: ctx.objectStore.pipelineBucket,
          credentials: ctx.objectStore.credentials, logFile: join(ctx.logDir, 'kfp-probe.log'), settings: ctx.client,
          deadlineMs: ctx.operationDeadlineMs, env: ctx.clientEnv, python: roleBin('kfp', 'python', ctx.venvs),
          // A run still going when the experiment ends is cut, not awaited (up to a whole run, 10-15 s):
          // it has no verdict left to feed.
          signal: ctx.signal,
        });
        ctx.timeline.push({ platform: 'kubeflow', capability: 'kfp.pipeline', op: 'pipeline run', start, end: Date.now(), outcome: r.status === 'SUCCEEDED' ? 'ok' : 'error', message: r.error?.slice(0, 500) });
      } catch (err) {
        if (ctx.signal.aborted) return; // cut by the harness, not an outcome of the platform's
        if (!(err instanceof Error)) throw err;
        ctx.timeline.push({ platform: 'kubeflow', capability: 'kfp.pipeline', op: 'pipeline run', start, end: Date.now(), outcome: err.name === 'DeadlineExceeded' ? 'timeout' : 'error', message: err.message });
      }
    });
  }
}
