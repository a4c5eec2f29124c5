import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '../../fixtures/stack.ts';
import { openMlflowClient } from '../../src/workloads/mlflow-client.ts';
import { timeouts } from '../../src/timeouts.ts';

const OP = timeouts.mlflowClientOp;

test.describe('MLflow tracking and registry through client->mlflow', () => {
  let dir: string;
  test.beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlops-chaos-test-'));
  });
  test.afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a param, a metric per step and an artifact are read back as logged', async ({ stack }) => {
    const client = openMlflowClient({ trackingUri: stack.endpoints.mlflow, logDir: dir, env: stack.clientEnv });
    try {
      const { run_id } = await client.ok<{ run_id: string }>('start_run', { experiment: 'roundtrip' }, OP);
      await client.ok('log_param', { run_id, key: 'lr', value: '0.1' }, OP);
      for (const step of [0, 1, 2]) await client.ok('log_metric', { run_id, key: 'loss', value: 1 / (step + 1), step }, OP);
      const file = join(dir, 'notes.txt');
      writeFileSync(file, 'artifact body\n');
      const logged = await client.ok<{ sha256: string }>('log_artifact', { run_id, path: file, artifact_path: 'docs' }, OP);
      await client.ok('end_run', { run_id }, OP);

      const run = await client.ok<{ status: string; params: Record<string, string> }>('get_run', { run_id }, OP);
      expect(run.status, 'run status after end_run').toBe('FINISHED');
      expect(run.params, 'params read back').toEqual({ lr: '0.1' });
      const history = await client.ok<{ history: { step: number; value: number }[] }>('metric_history', { run_id, key: 'loss' }, OP);
      expect(history.history.map((m) => [m.step, m.value]), 'metric history read back').toEqual([[0, 1], [1, 0.5], [2, 1 / 3]]);
      const back = await client.ok<{ sha256: string }>('download_artifact', { run_id, artifact_path: 'docs/notes.txt', dst: join(dir, 'dl') }, OP);
      expect(back.sha256, 'downloaded artifact digest').toBe(logged.sha256);
    } finally {
      await client[Symbol.asyncDispose]();
    }
  });

  test('a 5 MB artifact uploads and downloads intact', async ({ stack }) => {
    const client = openMlflowClient({ trackingUri: stack.endpoints.mlflow, logDir: dir, env: stack.clientEnv });
    try {
      const body = randomBytes(5 * 1024 * 1024);
      const file = join(dir, 'blob.bin');
      writeFileSync(file, body);
      const digest = createHash('sha256').update(body).digest('hex');
      const { run_id } = await client.ok<{ run_id: string }>('start_run', { experiment: 'roundtrip' }, OP);
      const up = await client.ok<{ sha256: string; size: number }>('log_artifact', { run_id, path: file }, OP);
      expect(up.sha256).toBe(digest);
      const down = await client.ok<{ sha256: string; size: number }>('download_artifact', { run_id, artifact_path: 'blob.bin', dst: join(dir, 'dl') }, OP);
      expect(down.size, 'downloaded size').toBe(body.length);
      expect(down.sha256, 'downloaded digest').toBe(digest);
    } finally {
      await client[Symbol.asyncDispose]();
    }
  });

  test('a registered version resolves through alias champion', async ({ stack }) => {
    const client = openMlflowClient({ trackingUri: stack.endpoints.mlflow, logDir: dir, env: stack.clientEnv });
    try {
      const ref = await client.ok<{ version: string; status: string }>('get_alias', { name: stack.reference.modelName, alias: 'champion' }, OP);
      expect(ref.version, 'reference model alias').toBe(stack.reference.version);
      expect(ref.status).toBe('READY');

      const { run_id } = await client.ok<{ run_id: string }>('start_run', { experiment: 'registry' }, OP);
      const file = join(dir, 'model.txt');
      writeFileSync(file, 'not really a model');
      await client.ok('log_artifact', { run_id, path: file, artifact_path: 'model' }, OP);
      const name = `registry-check-${Date.now()}`;
      const mv = await client.ok<{ version: string }>('register', { name, source: `runs:/${run_id}/model`, run_id }, OP);
      await client.ok('set_alias', { name, alias: 'champion', version: mv.version }, OP);
      const resolved = await client.ok<{ version: string; run_id: string }>('get_alias', { name, alias: 'champion' }, OP);
      expect(resolved, 'alias champion resolves to the registered version').toMatchObject({ version: mv.version, run_id });
    } finally {
      await client[Symbol.asyncDispose]();
    }
  });
});
