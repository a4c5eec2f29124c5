import type { FaultModule } from './types.ts';

/**
 * The training job's own client processes are SIGKILLed mid-run (an OOM kill, a preempted node):
 * all of them, since a job whose loops each have a client is still one job and dies as one.
 * The job is then rescheduled with a new run, as an orchestrator would; the question is what
 * happens to the run the dead job left behind.
 */
export const clientKill: FaultModule = {
  type: 'client-kill',
  on: 'client',
  targets: ['mlflow.training'],
  description: "the workload's client processes (every one of its job) are SIGKILLed mid-run; the job restarts with a new run",
  params: {},
  async inject(_stack, workload, _params, { clients }) {
    const client = clients.get(workload);
    if (!client) throw new Error(`no running client for workload '${workload}': list it in the scenario's workload`);
    client.kill();
    return { undo: async () => undefined, persisted: { kind: 'none' } };
  },
};
