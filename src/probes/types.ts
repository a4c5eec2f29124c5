import type { Ledger } from '../ledger/ledger.ts';
import type { Endpoints, ObjectStore, ReferenceModel } from '../targets/stack.ts';
import type { VenvOverrides } from '../targets/venv-overrides.ts';
import type { MlflowClientSettings } from '../workloads/mlflow-client.ts';
import type { Timeline } from './timeline.ts';

/** Endpoints a probe may use; a negative control can point one at a planted middlebox. */
export type ProbeEndpoints = Endpoints;

export interface ProbeContext {
  endpoints: ProbeEndpoints;
  reference: ReferenceModel;
  objectStore: ObjectStore;
  timeline: Timeline;
  ledger: Ledger;
  /** Aborted when the experiment stops observing; every probe loop ends on it. */
  signal: AbortSignal;
  operationDeadlineMs: number;
  client: MlflowClientSettings;
  /** MLflow Python client for the training workload (`mlflow2` for version skew). */
  clientVenv: 'mlflow3' | 'mlflow2';
  /** Stack.venvs: an upgrade run's client or KFP venv in place of set-up's. */
  venvs?: VenvOverrides;
  /** Stack.clientEnv: added to every MLflow client's environment. */
  clientEnv: Readonly<Record<string, string>>;
  logDir: string;
  /** Client processes by workload, for a fault that kills one (`client-kill`). */
  clients: Map<string, { kill(): void }>;
  /** The intermittent load a mesh scenario sends (`kserve.poll`, `mlflow.poll`): client pods and their period. */
  meshLoad?: { pods: number; everyMs: number };
  /** True between injection and revert (for a baseline: during its observation window). */
  faultActive: () => boolean;
}

/** A real client doing one user-facing operation over and over, one event per op. */
export interface Probe {
  readonly workload: string;
  /** Capabilities whose ops it emits. */
  readonly capabilities: string[];
  /**
   * For a probe whose every op is long (a whole pipeline run): fewer ops in the fault window to
   * judge by than the engine's MIN_OPS_IN_WINDOW, and fewer ok ops in a row for steady state and
   * recovery. Absent: the defaults.
   */
  readonly longOps?: { minOpsInWindow: number; okStreak: number };
  /** Runs until ctx.signal aborts (or its op budget is spent). */
  run(ctx: ProbeContext): Promise<void>;
  /** After recovery: finish what it started (end runs) so the ledger can be reconciled. */
  finish?(ctx: ProbeContext): Promise<void>;
}
