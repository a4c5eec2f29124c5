import { openMlflowClient } from '../workloads/mlflow-client.ts';
import type { PythonWorker } from '../workloads/python-worker.ts';
import { clientOp } from './record.ts';
import type { Probe, ProbeContext } from './types.ts';

/**
 * What the training, async-training and registry probes share: a real MLflow client, one run it
 * starts (and puts in the ledger) and ends in `finish` once the stack has recovered, so the
 * ledger can tell an ended run from a zombie.
 */
export abstract class MlflowRunProbe implements Probe {
  abstract readonly workload: string;
  abstract readonly capabilities: string[];
  protected runId: string | undefined;
  private worker: PythonWorker | undefined;
  private readonly dead: PythonWorker[] = [];

  /** `capability` owns the run's ops; runs go into `experiment`; `clientName` names the client's log. */
  constructor(
    private readonly runBase: { platform: 'mlflow'; capability: string },
    private readonly experiment: string,
    private readonly clientName: string,
  ) {}

  abstract run(ctx: ProbeContext): Promise<void>;

  /**
   * The live client. If it was killed (a client-kill fault), the job is rescheduled: a new
   * client and, next, a new run; the old run is left as the dead process left it.
   */
  protected client(ctx: ProbeContext): PythonWorker {
    if (this.worker?.alive) return this.worker;
    if (this.worker) {
      this.dead.push(this.worker);
      this.runId = undefined;
    }
    this.worker = openMlflowClient({ trackingUri: ctx.endpoints.mlflow, logDir: ctx.logDir, venv: ctx.clientVenv, settings: ctx.client, name: `${this.clientName}-${ctx.clientVenv}` });
    ctx.clients.set(this.workload, this.worker);
    return this.worker;
  }

  /** Starts the run; until that succeeds, `runId` stays undefined and the probe keeps trying. */
  protected async startRun(ctx: ProbeContext, w: PythonWorker): Promise<void> {
    const r = await clientOp<{ run_id: string }>(ctx, w, { ...this.runBase, op: 'start_run' }, { experiment: this.experiment });
    if (!r) return;
    this.runId = r.run_id;
    ctx.ledger.add({ ...this.runBase, kind: 'run', runId: r.run_id, ended: false });
  }

  /** Whatever must happen before the run ends (the async probe flushes its queue). */
  protected async beforeEnd(_ctx: ProbeContext, _w: PythonWorker): Promise<void> {}

  async finish(ctx: ProbeContext): Promise<void> {
    const w = this.worker;
    if (w && this.runId) {
      await this.beforeEnd(ctx, w);
      if (await clientOp(ctx, w, { ...this.runBase, op: 'end_run' }, { run_id: this.runId })) ctx.ledger.markEnded(this.runId);
    }
    for (const x of [...this.dead, ...(w ? [w] : [])]) await x[Symbol.asyncDispose]();
  }
}
