import { join } from 'node:path';
import { venvBin, workloadsDir } from '../paths.ts';
import { PythonWorker } from './python-worker.ts';

/** The MLflow client's own retry and timeout knobs: explicit per use, recorded with results. */
export interface MlflowClientSettings {
  maxRetries: number;
  backoffFactor: number;
  timeoutSeconds: number;
}

export const DEFAULT_CLIENT_SETTINGS: MlflowClientSettings = { maxRetries: 2, backoffFactor: 1, timeoutSeconds: 20 };

export function mlflowClientEnv(trackingUri: string, s: MlflowClientSettings, home: string): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    HOME: home,
    MLFLOW_TRACKING_URI: trackingUri,
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: String(s.maxRetries),
    MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: String(s.backoffFactor),
    MLFLOW_HTTP_REQUEST_TIMEOUT: String(s.timeoutSeconds),
    MLFLOW_ENABLE_TELEMETRY: 'false',
    DO_NOT_TRACK: 'true',
  };
}

/** A real MLflow Python client (3.x, or the 2.x one for version skew) as a long-lived worker. */
export function openMlflowClient(opts: {
  trackingUri: string;
  logDir: string;
  venv?: 'mlflow3' | 'mlflow2';
  /** A python that replaces the venv's (an upgrade run's client). */
  python?: string;
  settings?: MlflowClientSettings;
  name?: string;
  /** What the stack says its clients need (Stack.clientEnv). */
  env?: Readonly<Record<string, string>>;
}): PythonWorker {
  const venv = opts.venv ?? 'mlflow3';
  const name = opts.name ?? `mlflow-client-${venv}`;
  return new PythonWorker(
    name,
    opts.python ?? venvBin(venv, 'python'),
    join(workloadsDir, 'mlflow3', 'mlflow_client.py'),
    { ...mlflowClientEnv(opts.trackingUri, opts.settings ?? DEFAULT_CLIENT_SETTINGS, opts.logDir), ...opts.env },
    join(opts.logDir, `${name}.log`),
  );
}
