import { roleBin, type VenvOverrides } from '../venv-overrides.ts';
import { DEFAULT_CLIENT_SETTINGS, mlflowClientEnv } from '../../workloads/mlflow-client.ts';
import { timeouts } from '../../timeouts.ts';
import { LOOPBACK } from '../../util/ports.ts';
import type { StackContext } from './context.ts';
import type { ManagedProcess, Watched } from './managed-process.ts';
import { waitHttp200 } from '../../util/wait-http.ts';

/**
 * `mlflow models serve` for the reference model's alias, resolving it through the
 * mlflow-serving->mlflow edge. `--env-manager local`: the default would build an env from the network.
 */
export function startMlflowServing(ctx: StackContext, opts: { port: number; modelUri: string; trackingEdge: string; env?: Record<string, string>; venvs?: VenvOverrides }): ManagedProcess {
  return ctx.start({
    name: 'mlflow-serving',
    command: roleBin('mlflow-server', 'mlflow', opts.venvs),
    args: ['models', 'serve', '-m', opts.modelUri, '--env-manager', 'local', '-h', LOOPBACK, '-p', String(opts.port), '--workers', '1'],
    env: {
      // Explicit client retries: a load that cannot reach MLflow fails in seconds, not minutes.
      ...mlflowClientEnv(opts.trackingEdge, DEFAULT_CLIENT_SETTINGS, ctx.dir('mlflow-serving-home')),
      PATH: `${roleBin('mlflow-server', '', opts.venvs)}:${process.env.PATH}`,
      ...opts.env,
    },
  });
}

export function waitMlflowServingReady(proc: Watched, url: string): Promise<void> {
  return waitHttp200(proc, 'MLflow scoring server to answer /ping', `${url}/ping`, timeouts.mlflowServingReady);
}
