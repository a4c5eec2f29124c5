import { predictKserveV1, predictMlflow } from '../workloads/predict.ts';
import { CONTAINER_TARGETS, containerOf } from './container.ts';
import type { FaultModule } from './types.ts';

const MiB = 1024 ** 2;

/**
 * The container's memory limit lowered to what it uses now plus a little headroom, so its own work
 * gets it OOM-killed by the kernel (a limit set too tight, or a request bigger than its sizing).
 * For a model server the fault also sends one large but valid batch through the client's edge, the
 * request that outgrows the limit. Revert restores the limit and starts the container again if the
 * kernel killed it, as a restart policy would; the note says whether the OOM kill happened, as the
 * engine saw it (State.OOMKilled).
 */
export const oom: FaultModule = {
  type: 'oom',
  on: 'process',
  onlyOn: CONTAINER_TARGETS,
  targets: ['mlflow', 'mlflow-serving', 'kserve'],
  description: 'the memory limit is cut to current use plus headroom; its own work gets it OOM-killed; revert restores and restarts it',
  params: {
    headroomMB: { doc: 'memory allowed beyond what the container uses at injection, MiB', min: 1, max: 4096, default: 24 },
    batchRows: { doc: 'rows of one valid prediction batch the fault sends to a model server (0: none)', min: 0, max: 2_000_000, default: 0 },
  },
  async inject(stack, target, p) {
    const { c, name } = containerOf(stack, 'oom', target);
    const used = await c.memoryUsage(name);
    const limit = used + (p.headroomMB ?? 24) * MiB;
    await c.setLimits(name, { memoryBytes: limit });
    const seen = (await c.state(name)).memoryBytes;
    if (seen !== limit) throw new Error(`oom: ${name}'s memory limit is ${seen} after setting ${limit}`);
    let batch = '';
    const rows = p.batchRows ?? 0;
    if (rows > 0) {
      const golden = stack.reference.golden;
      const data = Array.from({ length: rows }, (_, i) => golden.inputs[i % golden.inputs.length]!);
      const send = name === 'kserve' ? predictKserveV1(stack.endpoints.kserve, data, 60_000) : name === 'mlflow-serving' ? predictMlflow(stack.endpoints.mlflowServing, golden.columns, data, 60_000) : undefined;
      if (!send) throw new Error(`oom: batchRows applies to a model server (mlflow-serving, kserve), not ${name}`);
      batch = `; one batch of ${rows} rows sent`;
      void send.then((r) => (batch = `; one batch of ${rows} rows answered ${r.http.status}`), (err: Error) => (batch = `; one batch of ${rows} rows failed: ${err.message.slice(0, 120)}`));
    }
    let outcome = '';
    return {
      undo: async () => {
        const st = await c.state(name);
        outcome = st.oomKilled ? `the kernel OOM-killed it (exit ${st.exitCode}, State.OOMKilled)` : st.running ? 'it was not OOM-killed' : `it stopped without an OOM kill (exit ${st.exitCode})`;
        await c.setLimits(name, { memoryBytes: null });
        if (await c.ensureRunning(name)) outcome += '; restarted at revert';
      },
      persisted: { kind: 'none' },
      get note() {
        return `${name}'s memory limit cut to ${(limit / MiB).toFixed(0)} MiB (it used ${(used / MiB).toFixed(0)} MiB)${batch}${outcome ? `; ${outcome}` : ''}`;
      },
    };
  },
};
