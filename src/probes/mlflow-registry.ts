import { openMlflowClient } from '../workloads/mlflow-client.ts';
import type { PythonWorker } from '../workloads/python-worker.ts';
import { clientOp } from './record.ts';
import { loop } from './loop.ts';
import type { Probe, ProbeContext } from './types.ts';

/** What a deployment does before it loads a model: resolve the `champion` alias in the registry. */
export class MlflowRegistryProbe implements Probe {
  readonly workload = 'mlflow.registry';
  readonly capabilities = ['mlflow.registry'];
  private worker: PythonWorker | undefined;

  async run(ctx: ProbeContext): Promise<void> {
    this.worker = openMlflowClient({ trackingUri: ctx.endpoints.mlflow, logDir: ctx.logDir, venv: ctx.clientVenv, settings: ctx.client, name: `registry-${ctx.clientVenv}` });
    const w = this.worker;
    await loop(ctx.signal, 1_000, async () => {
      await clientOp(ctx, w, { platform: 'mlflow', capability: 'mlflow.registry', op: 'get_alias' }, { name: ctx.reference.modelName, alias: ctx.reference.alias });
    });
  }

  async finish(): Promise<void> {
    await this.worker?.[Symbol.asyncDispose]();
  }
}
