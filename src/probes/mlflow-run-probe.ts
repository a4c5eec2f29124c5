import { roleBin } from '../targets/venv-overrides.ts';
import { openMlflowClient } from '../workloads/mlflow-client.ts';
import type { PythonWorker } from '../workloads/python-worker.ts';
import { clientOp } from './record.ts';
import type { Probe, ProbeContext } from './types.ts';

/** One incarnation of the job: its client processes (one per loop, by role) and the run they share. */
interface Job {
  workers: Map<string, PythonWorker>;
  runId?: string;
  /** Where the run's artifacts live (`mlflow-artifacts:/…`), as create_run answered. */
  artifactUri?: string;
  /** The start_run in flight, so loops that need a run at the same time share one. */
  starting?: Promise<void>;
}

/**
 * What the training, async-training and registry probes share: real MLflow clients, one run the
 * job starts (and puts in the ledger) and ends in `finish` once the stack has recovered, so the
 * ledger can tell an ended run from a zombie. A probe with several loops gives each its own
 * client (`role`): a worker answers one request at a time, so a loop hung on one call would
 * otherwise starve the others.
 */
export abstract class MlflowRunProbe implements Probe {
  abstract readonly workload: string;
  abstract readonly capabilities: string[];
  private job: Job = { workers: new Map() };
  private readonly dead: PythonWorker[] = [];
  /** Clients that have answered a local call: their process start is behind them. */
  private readonly warm = new WeakSet<PythonWorker>();
  /** What a client-kill fault kills: every client process the job has at that moment (one job, one fate). */
  private readonly killJob = { kill: () => this.job.workers.forEach((w) => w.kill()) };

  /** `capability` owns the run's ops; runs go into `experiment`; `clientName` names the clients' logs. */
  constructor(
    private readonly runBase: { platform: 'mlflow'; capability: string },
    private readonly experiment: string,
    private readonly clientName: string,
  ) {}

  abstract run(ctx: ProbeContext): Promise<void>;

  /** The job's current run; undefined until started, and again once the job is rescheduled. */
  protected get runId(): string | undefined {
    return this.job.runId;
  }

  protected get artifactUri(): string | undefined {
    return this.job.artifactUri;
  }

  /**
   * The live client of `role`. If any of the job's clients died (a client-kill fault), the whole
   * job is rescheduled, as an orchestrator would: the others are killed too, every loop gets a
   * new client and, next, a new run; the old run is left as the dead job left it.
   */
  protected client(ctx: ProbeContext, role = ''): PythonWorker {
    const workers = [...this.job.workers.values()];
    if (workers.some((w) => !w.alive)) {
      for (const w of workers) w.kill();
      this.dead.push(...workers);
      this.job = { workers: new Map() };
    }
    let w = this.job.workers.get(role);
    if (!w) {
      const name = [this.clientName, role, ctx.clientVenv].filter(Boolean).join('-');
      // An upgrade run's client replaces the 3.x client only; a scenario that asks for the 2.x client keeps it.
      const python = ctx.clientVenv === 'mlflow3' && ctx.venvs?.['mlflow-client'] ? roleBin('mlflow-client', 'python', ctx.venvs) : undefined;
      w = openMlflowClient({ trackingUri: ctx.endpoints.mlflow, logDir: ctx.logDir, venv: ctx.clientVenv, settings: ctx.client, name, env: ctx.clientEnv, ...(python ? { python } : {}) });
      this.job.workers.set(role, w);
    }
    ctx.clients.set(this.workload, this.killJob);
    return w;
  }

  /**
   * `client`, once the process has imported MLflow (2 s and more on a busy machine): it is asked
   * for its version, a local call, before its first op, so that time never lands in a platform op.
   */
  protected async warmClient(ctx: ProbeContext, role: string): Promise<PythonWorker> {
    const w = this.client(ctx, role);
    if (!this.warm.has(w)) {
      await w.call('version', {}, ctx.operationDeadlineMs).catch(() => undefined);
      this.warm.add(w);
    }
    return w;
  }

  /**
   * Starts the job's run; until that succeeds, `runId` stays undefined and the loops keep trying.
   * Concurrent callers share the one start_run in flight, so one job never makes two runs.
   */
  protected startRun(ctx: ProbeContext, w: PythonWorker): Promise<void> {
    const job = this.job;
    job.starting ??= (async () => {
      const r = await clientOp<{ run_id: string; artifact_uri: string }>(ctx, w, { ...this.runBase, op: 'start_run' }, { experiment: this.experiment });
      if (!r) return;
      job.runId = r.run_id;
      job.artifactUri = r.artifact_uri;
      ctx.ledger.add({ ...this.runBase, kind: 'run', runId: r.run_id, ended: false });
    })().finally(() => (job.starting = undefined));
    return job.starting;
  }

  /** Whatever must happen before the run ends (the async probe flushes its queue). */
  protected async beforeEnd(_ctx: ProbeContext, _w: PythonWorker): Promise<void> {}

  async finish(ctx: ProbeContext): Promise<void> {
    const current = [...this.job.workers.values()];
    const w = current[0];
    if (w && this.runId) {
      await this.beforeEnd(ctx, w);
      if (await clientOp(ctx, w, { ...this.runBase, op: 'end_run' }, { run_id: this.runId })) ctx.ledger.markEnded(this.runId);
    }
    // Side by side: no client's exit waits on another's (with the experiment's probes finishing
    // side by side too, reconciliation took 1-2 s less a scenario).
    await Promise.all([...this.dead, ...current].map((x) => x[Symbol.asyncDispose]()));
  }
}
