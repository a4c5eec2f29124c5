import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test, expect } from '../../fixtures/stack.ts';
import type { StartedStack } from '../../src/targets/index.ts';
import { EDGES, type EdgeName } from '../../src/targets/stack.ts';
import { http, HttpFailure } from '../../src/util/http.ts';
import { predictKserveV1, predictMlflow } from '../../src/workloads/predict.ts';
import { runPipeline } from '../../src/workloads/kfp-pipeline.ts';

/** Did the operation that needs the edge work? `detail` says what was seen, for the failure message. */
interface Seen {
  ok: boolean;
  detail: string;
}

async function seen(work: () => Promise<Seen>): Promise<Seen> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof HttpFailure || err instanceof Error) return { ok: false, detail: err.message.split('\n')[0] ?? '' };
    throw err;
  }
}

const status = (res: { status: number; body: string }, want = 200): Seen => ({ ok: res.status === want, detail: `${res.status} ${res.body.slice(0, 160)}` });

const pipeline = (s: StartedStack) => async (): Promise<Seen> => {
  const r = await runPipeline({ mlflowUrl: s.endpoints.kfpMlflow, s3Url: s.endpoints.kfpS3, bucket: s.objectStore.pipelineBucket, credentials: s.objectStore.credentials, logFile: join(s.logsDir, 'kfp-edges.log') });
  return { ok: r.status === 'SUCCEEDED', detail: `${r.status} ${r.error ?? ''}`.slice(0, 300) };
};

/** For each edge, the user-facing operation that cannot work without it. */
const exercises: Record<EdgeName, (s: StartedStack) => () => Promise<Seen>> = {
  'client->mlflow': (s) => async () => status(await http(`${s.endpoints.mlflow}/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default`)),
  // Straight to the server, so only its database link is in question.
  'mlflow->postgres': (s) => async () => status(await http(`${s.endpoints.mlflowDirect}/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default`, { timeoutMs: 30_000 })),
  'mlflow->s3': (s) => async () =>
    status(await http(`${s.endpoints.mlflowDirect}/api/2.0/mlflow-artifacts/artifacts/edge-check/${randomBytes(4).toString('hex')}.txt`, { method: 'PUT', body: 'edge check', timeoutMs: 60_000 })),
  'client->mlflow-serving': (s) => async () => {
    const g = s.reference.golden;
    return status((await predictMlflow(s.endpoints.mlflowServing, g.columns, g.inputs)).http);
  },
  // The scoring server resolves models:/…@champion through MLflow only when it loads: restart it.
  'mlflow-serving->mlflow': (s) => async () => {
    await s.process('mlflow-serving').restart();
    return { ok: true, detail: 'restarted and ready' };
  },
  'client->kserve': (s) => async () => status((await predictKserveV1(s.endpoints.kserve, s.reference.golden.inputs)).http),
  // KServe pulls the model from S3 only when it loads: restart it.
  'kserve->s3': (s) => async () => {
    await s.process('kserve').restart();
    return { ok: true, detail: 'restarted and ready' };
  },
  'kfp->mlflow': pipeline,
  'kfp->s3': pipeline,
};

test.describe('every edge is really in the path', () => {
  for (const edge of EDGES) {
    test(`${edge}: disabling the proxy breaks the operation, enabling it restores it`, async ({ stack }) => {
      const exercise = exercises[edge](stack);
      const proxy = stack.edges[edge].proxy;
      await test.step('proxy disabled: the operation fails', async () => {
        await stack.toxiproxy.setEnabled(proxy, false);
        const r = await seen(exercise);
        expect(r.ok, `${edge} disabled, yet the operation worked: ${r.detail}`).toBe(false);
      });
      await test.step('proxy enabled: the operation works again', async () => {
        await stack.toxiproxy.setEnabled(proxy, true);
        const r = await seen(exercise);
        expect(r.ok, `${edge} enabled, yet the operation failed: ${r.detail}`).toBe(true);
      });
    });
  }
});
