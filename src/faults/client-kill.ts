import type { FaultModule } from './types.ts';

/**
 * The training job's own client process is SIGKILLed mid-run (an OOM kill, a preempted node).
 * The job is then rescheduled with a new run, as an orchestrator would; the question is what
 * happens to the run the dead process left behind.
 */
export const clientKill: FaultModule = {
  type: 'client-kill',
  on: 'client',
  targets: ['mlflow.training'],
  description: "the workload's client process is SIGKILLed mid-run; the job restarts with a new run",
  params: {},
  async inject(_stack, workload, _params, clients) {
    const client = clients.get(workload);
    if (!client) throw new Error(`no running client for workload '${workload}': list it in the scenario's workload`);
    client.kill();
    return { undo: async () => undefined, persisted: { kind: 'none' } };
  },
};
