import type { VenvRole } from '../targets/venv-overrides.ts';

/**
 * What `upgrade COMPONENT` swaps: the PyPI package whose version is under test, the venv role it
 * plays on the stack, the workloads/ venv whose requirements it starts from, and the packages
 * released in lockstep with it (pinned to the same version in requirements.txt or the lock, so
 * they move with it and their old pins must not constrain the new install).
 */
export interface ComponentSpec {
  role: VenvRole;
  /** workloads/<dir>/requirements.txt and .lock are the base of its venv. */
  workloadDir: 'mlflow3' | 'kserve' | 'kfp';
  pkg: string;
  /** Released with `pkg` under the same version: replaced in requirements.txt, dropped from the lock. */
  lockstep: string[];
  /** Other packages of its family, versioned on their own: dropped from the lock so pip picks what `pkg` asks for. */
  family: string[];
  /**
   * Pins an older release needs beyond what it declares: a dependency it allows (a loose upper
   * bound) but breaks on, which the lock's newer pin would otherwise install. Each names its cause.
   */
  compat?: readonly { before: string; constraint: string; why: string }[];
  /** Imported once the venv is built: a version that installs but cannot start fails here, before any stack. */
  smoke: string;
  /** The scenarios run when none are named: the ones whose verdicts this component decides. */
  defaultScenarios: string[];
  what: string;
}

// MLflow before 3.9.0 imports sqlalchemy.pool.FallbackAsyncAdaptedQueuePool, which SQLAlchemy 2.1
// removed, while declaring sqlalchemy<3: the server exits at start (fixed by mlflow#20203 in 3.9.0).
// Before 3.11.1 the scoring server registers its routes with `app.route`, which Starlette 1.0
// removed, while declaring only fastapi<1: `mlflow models serve` exits at start.
const MLFLOW_COMPAT = [
  { before: '3.9.0', constraint: 'sqlalchemy<2.1', why: 'FallbackAsyncAdaptedQueuePool, removed in SQLAlchemy 2.1, is imported before mlflow#20203 (3.9.0)' },
  { before: '3.11.1', constraint: 'starlette<1', why: 'the scoring server uses app.route, removed in Starlette 1.0, before 3.11.1' },
] as const;

export const COMPONENTS = {
  mlflow: {
    role: 'mlflow-server', workloadDir: 'mlflow3', pkg: 'mlflow', lockstep: [], family: ['mlflow-skinny', 'mlflow-tracing'], compat: MLFLOW_COMPAT,
    smoke: 'import mlflow.server, mlflow.store.db.utils, mlflow.store.tracking.sqlalchemy_store, mlflow.pyfunc.scoring_server',
    defaultScenarios: ['db-outage', 'tracking-server-crash', 's3-outage-during-training', 's3-outage-during-registration'],
    what: 'the MLflow tracking server and scoring server',
  },
  'mlflow-client': {
    role: 'mlflow-client', workloadDir: 'mlflow3', pkg: 'mlflow', lockstep: [], family: ['mlflow-skinny', 'mlflow-tracing'], compat: MLFLOW_COMPAT,
    smoke: 'import mlflow, mlflow.tracking',
    defaultScenarios: ['s3-blackhole-during-artifact-logging', 'tracking-server-crash', 'db-outage', 's3-outage-during-training'],
    what: 'the MLflow client the workloads use',
  },
  kserve: {
    role: 'kserve', workloadDir: 'kserve', pkg: 'kserve', lockstep: ['kserve-storage'], family: [],
    smoke: 'import kserve, kserve_storage',
    defaultScenarios: ['kserve-frozen', 'version-skew-kserve-protocol', 'bad-input-to-serving', 'kserve-replica-start-s3-outage'],
    what: 'the KServe model server',
  },
  kfp: {
    role: 'kfp', workloadDir: 'kfp', pkg: 'kfp', lockstep: [], family: ['kfp-pipeline-spec', 'kfp-server-api'],
    smoke: 'import kfp, kfp.local',
    defaultScenarios: ['pipeline-mlflow-blackhole', 'pipeline-s3-outage-at-upload'],
    what: 'the Kubeflow Pipelines SDK and its local runner',
  },
} as const satisfies Record<string, ComponentSpec>;

export type ComponentName = keyof typeof COMPONENTS;

export function isComponentName(s: string): s is ComponentName {
  return Object.hasOwn(COMPONENTS, s);
}
