import { http } from '../util/http.ts';
import { judgeJson } from './golden.ts';
import { pollFromPods } from './pods.ts';
import { httpOp } from './record.ts';
import type { Probe, ProbeContext } from './types.ts';

/**
 * Intermittent registry lookups from the mesh's client pods (see `pollFromPods`): deployments
 * resolving the `champion` alias over MLflow's REST API to learn which version to serve. Each
 * answer must name the reference model's version.
 */
export class MlflowPollProbe implements Probe {
  readonly workload = 'mlflow.poll';
  readonly capabilities = ['mlflow.registry'];

  async run(ctx: ProbeContext): Promise<void> {
    const { modelName, alias, version } = ctx.reference;
    const url = `${ctx.endpoints.mlflow}/api/2.0/mlflow/registered-models/alias?name=${encodeURIComponent(modelName)}&alias=${encodeURIComponent(alias)}`;
    const judge = judgeJson(
      (b) => (b as { model_version?: { version?: unknown } }).model_version?.version,
      (got) => (got === version ? undefined : `alias ${alias} resolved to version ${JSON.stringify(got)}, not ${version}`),
    );
    await pollFromPods(ctx, (headers) =>
      httpOp(ctx, { platform: 'mlflow', capability: 'mlflow.registry', op: 'GET registered-models/alias (polling)' }, (t) => http(url, { headers, timeoutMs: t }), judge),
    );
  }
}
