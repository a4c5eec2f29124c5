import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MlflowRunProbe } from './mlflow-run-probe.ts';
import { clientCall, clientOp } from './record.ts';
import { loop } from './loop.ts';
import type { ProbeContext } from './types.ts';

const MODEL = 'chaos-registry-model';
const BASE = { platform: 'mlflow' as const, capability: 'mlflow.registry' };

/**
 * The registry as deployments and pipelines use it: resolve the `champion` alias every second,
 * and every few seconds upload a model file and register it. Like autologging (PR #4259), the
 * pipeline does not stop when the upload fails: the ledger then asks whether a version was
 * accepted whose source does not exist (mlflow#4630), and whether a registration the client
 * was told failed exists anyway.
 */
export class MlflowRegistryProbe extends MlflowRunProbe {
  readonly workload = 'mlflow.registry';
  readonly capabilities = [BASE.capability];

  constructor() {
    super(BASE, 'chaos-registry', 'registry');
  }

  async run(ctx: ProbeContext): Promise<void> {
    await loop(ctx.signal, 1_000, async (i) => {
      const w = this.client(ctx);
      await clientOp(ctx, w, { ...BASE, op: 'get_alias' }, { name: ctx.reference.modelName, alias: ctx.reference.alias });
      if (i % 4 !== 0) return;
      if (!this.runId) return this.startRun(ctx, w);
      const runId = this.runId;
      const dir = `model-${i}`;
      const file = join(ctx.logDir, `registry-model-${i}.txt`);
      writeFileSync(file, randomBytes(512).toString('base64'));
      // The upload's own failure is an event; the registration goes ahead regardless.
      await clientOp(ctx, w, { ...BASE, op: 'log_artifact' }, { run_id: runId, path: file, artifact_path: dir });
      const source = `runs:/${runId}/${dir}`;
      const mv = await clientCall<{ version: string }>(ctx, w, { ...BASE, op: 'register' }, { name: MODEL, source, run_id: runId });
      ctx.ledger.add(
        mv.ok
          ? { ...BASE, kind: 'model-version', name: MODEL, version: mv.result.version, runId, artifact: `${dir}/registry-model-${i}.txt` }
          : { ...BASE, kind: 'failed', write: { kind: 'registration', name: MODEL, runId, source }, told: mv.message, answered: mv.answered },
      );
    });
  }
}
