import { roleBin, type VenvOverrides } from '../venv-overrides.ts';
import { timeouts } from '../../timeouts.ts';
import { LOOPBACK } from '../../util/ports.ts';
import type { StackContext } from './context.ts';
import type { ManagedProcess, Watched } from './managed-process.ts';
import { waitHttp200 } from '../../util/wait-http.ts';
import { PG_DATABASE, PG_USER, type Postgres } from './postgres.ts';
import type { SeaweedFs } from './seaweedfs.ts';

export const ARTIFACT_BUCKET = 'mlflow';

export interface MlflowServerOptions {
  port: number;
  /** host:port of the mlflow->postgres edge. */
  postgresEdge: string;
  /** URL of the mlflow->s3 edge. */
  s3Edge: string;
  workers: number;
  /** Extra server env, e.g. MLFLOW_SQLALCHEMYSTORE_POOL_SIZE for pool-saturation scenarios. */
  env?: Record<string, string>;
  /** An upgrade run's server venv (`mlflow-server`); absent: set-up's mlflow3. */
  venvs?: VenvOverrides;
}

/**
 * The MLflow tracking server: PostgreSQL backend and S3 artifacts, each through its edge;
 * artifacts proxied (`--artifacts-destination`), so clients never talk to S3 themselves.
 */
export function startMlflowServer(ctx: StackContext, pg: Postgres, s3: SeaweedFs, opts: MlflowServerOptions): ManagedProcess {
  return ctx.start({
    name: 'mlflow',
    command: roleBin('mlflow-server', 'mlflow', opts.venvs),
    args: ['server', '--artifacts-destination', `s3://${ARTIFACT_BUCKET}`, '--host', LOOPBACK, '--port', String(opts.port), '--workers', String(opts.workers)],
    env: {
      PATH: process.env.PATH,
      HOME: ctx.dir('mlflow-home'),
      // The URI carries no password: libpq reads PGPASSWORD, so the secret stays out of argv and logs.
      MLFLOW_BACKEND_STORE_URI: `postgresql+psycopg2://${PG_USER}@${opts.postgresEdge}/${PG_DATABASE}`,
      PGPASSWORD: pg.password,
      PGCONNECT_TIMEOUT: '10',
      MLFLOW_S3_ENDPOINT_URL: opts.s3Edge,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      MLFLOW_ENABLE_TELEMETRY: 'false',
      MLFLOW_DISABLE_TELEMETRY: 'true',
      // MLflow 3's job runner (a huey consumer for online scoring and trace archival) starts beside the
      // server's workers and more than doubles every (re)start on 2 cores (19.3 s against 8.1 s,
      // measured 2026-11-30); no capability under test uses it.
      MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
      DO_NOT_TRACK: 'true',
      ...opts.env,
    },
  });
}

/** Ready = a database-backed call answers 200 (`/health` is static and proves nothing). */
export function waitMlflowReady(proc: Watched, url: string): Promise<void> {
  return waitHttp200(proc, 'MLflow tracking server to answer a DB-backed call (experiments/get-by-name)', `${url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default`, timeouts.mlflowReady);
}
