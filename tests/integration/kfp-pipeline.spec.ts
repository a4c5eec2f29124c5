import { join } from 'node:path';
import { test, expect } from '../../fixtures/stack.ts';
import { s3Admin } from '../../src/targets/local/seaweedfs.ts';
import { runPipeline } from '../../src/workloads/kfp-pipeline.ts';
import { openMlflowClient } from '../../src/workloads/mlflow-client.ts';
import { timeouts } from '../../src/timeouts.ts';

test('the KFP pipeline (train → evaluate → upload/register) succeeds and its outputs are in S3 and the registry', async ({ stack }) => {
  const runTag = `it-${Date.now().toString(36)}`;
  const result = await runPipeline({
    mlflowUrl: stack.endpoints.kfpMlflow,
    s3Url: stack.endpoints.kfpS3,
    bucket: stack.objectStore.pipelineBucket,
    credentials: stack.objectStore.credentials,
    logFile: join(stack.logsDir, 'kfp-pipeline.log'),
    runTag,
    modelName: 'kfp-model',
  });
  expect(result.status, `pipeline: ${result.error ?? ''}`).toBe('SUCCEEDED');
  expect(result.accuracy, 'evaluated accuracy').toBeGreaterThan(0.7);
  expect(result.s3_uri).toBe(`s3://${stack.objectStore.pipelineBucket}/${runTag}/model.xgb`);

  // Read back independently of the pipeline: straight from SeaweedFS, and from MLflow.
  const obj = await s3Admin<{ exists: boolean; sha256: string }>(
    stack.objectStore,
    ['head', stack.objectStore.pipelineBucket, `${runTag}/model.xgb`],
    'read the pipeline model from S3',
  );
  expect(obj, 'model object in S3').toEqual({ exists: true, size: expect.any(Number), sha256: result.sha256 });

  const client = openMlflowClient({ trackingUri: stack.endpoints.mlflow, logDir: stack.logsDir, name: 'kfp-check', env: stack.clientEnv });
  try {
    const run = await client.ok<{ status: string; params: Record<string, string> }>('get_run', { run_id: result.run_id }, timeouts.mlflowClientOp);
    expect(run.status, 'pipeline MLflow run status').toBe('FINISHED');
    expect(run.params.run_tag).toBe(runTag);
    const mv = await client.ok<{ status: string; run_id: string }>('get_version', { name: 'kfp-model', version: result.model_version }, timeouts.mlflowClientOp);
    expect(mv, 'registered version').toMatchObject({ status: 'READY', run_id: result.run_id });
  } finally {
    await client[Symbol.asyncDispose]();
  }
});
