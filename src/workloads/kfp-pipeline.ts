import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { venvBin, workloadsDir } from '../paths.ts';
import { timeouts } from '../timeouts.ts';
import type { S3Credentials } from '../targets/stack.ts';
import { lastJsonLine, runToCompletion } from '../util/run-to-completion.ts';
import type { MlflowClientSettings } from './mlflow-client.ts';
import { DEFAULT_CLIENT_SETTINGS, mlflowClientEnv } from './mlflow-client.ts';

export interface PipelineResult {
  status: 'SUCCEEDED' | 'FAILED';
  error?: string;
  accuracy?: number;
  s3_uri?: string;
  sha256?: string;
  model_name?: string;
  model_version?: string;
  run_id?: string;
  exitCode: number | null;
  ms: number;
}

/**
 * Runs the KFP pipeline (train → evaluate → upload/register) with kfp.local's subprocess
 * runner, reaching MLflow and S3 through the kfp-> edges. kfp.local waits on a task with no
 * timeout, so the deadline here is the only thing that bounds a hung task.
 */
export async function runPipeline(opts: {
  mlflowUrl: string;
  s3Url: string;
  bucket: string;
  credentials: S3Credentials;
  logFile: string;
  modelName?: string;
  runTag?: string;
  settings?: MlflowClientSettings;
  deadlineMs?: number;
  /** Stack.clientEnv. */
  env?: Readonly<Record<string, string>>;
  /** A python that replaces set-up's kfp venv (an upgrade run's KFP). */
  python?: string;
  /** Aborted: the run's processes are killed and the promise rejects. */
  signal?: AbortSignal;
}): Promise<PipelineResult> {
  const root = mkdtempSync(join(tmpdir(), 'mlops-chaos-kfp-'));
  const runTag = opts.runTag ?? `run-${Date.now().toString(36)}`;
  try {
    const run = await runToCompletion(
      opts.python ?? venvBin('kfp', 'python'),
      [join(workloadsDir, 'kfp', 'pipeline.py'), '--mlflow-uri', opts.mlflowUrl, '--s3-endpoint', opts.s3Url, '--bucket', opts.bucket, '--model-name', opts.modelName ?? 'kfp-model', '--pipeline-root', root, '--run-tag', runTag],
      {
        env: {
          ...mlflowClientEnv(opts.mlflowUrl, opts.settings ?? DEFAULT_CLIENT_SETTINGS, root),
          ...opts.env,
          AWS_ACCESS_KEY_ID: opts.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: opts.credentials.secretAccessKey,
          AWS_DEFAULT_REGION: 'us-east-1',
        },
        deadlineMs: opts.deadlineMs ?? timeouts.kfpPipeline,
        what: `KFP pipeline run ${runTag} to finish`,
        logFile: opts.logFile,
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
    );
    const last = lastJsonLine<Omit<PipelineResult, 'exitCode' | 'ms'>>(run.stdout);
    return { ...(last ?? { status: 'FAILED', error: `no result line; stderr: ${run.stderr.slice(-500)}` }), exitCode: run.code, ms: run.ms };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
