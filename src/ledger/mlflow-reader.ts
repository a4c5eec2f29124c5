import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { timeouts } from '../timeouts.ts';
import { openMlflowClient } from '../workloads/mlflow-client.ts';
import type { PythonWorker, WorkerReply } from '../workloads/python-worker.ts';
import { DeadlineExceeded } from '../util/poll.ts';
import type { LedgerReader } from './ledger.ts';

/**
 * Reads back what MLflow holds now, straight from the tracking server (no edge, no fault), with
 * the real client. Returns a reader and its disposer. The client process starts on the first
 * read (an experiment that wrote nothing pays no Python start-up for it) and serves every read
 * after, so a run of many experiments on one stack starts it once. A client that died, or whose
 * read overran its deadline (it answers one op at a time, so it would still be busy), is
 * replaced at the next read.
 */
export function mlflowLedgerReader(trackingUri: string, logDir: string, env: Readonly<Record<string, string>> = {}): LedgerReader & AsyncDisposable {
  let started: PythonWorker | undefined;
  const deadline = timeouts.mlflowClientOp;
  const fresh = () => openMlflowClient({ trackingUri, logDir, name: 'ledger-reader', env });
  const worker = (): PythonWorker => {
    if (started && !started.alive) started = undefined;
    return (started ??= fresh());
  };
  /** One read; a deadline overrun retires the client it was sent to. */
  const read = async <T>(op: string, args: Record<string, unknown>): Promise<WorkerReply<T>> => {
    const w = worker();
    try {
      return await w.call<T>(op, args, deadline);
    } catch (err) {
      if (err instanceof DeadlineExceeded) {
        if (started === w) started = undefined;
        await w[Symbol.asyncDispose]();
      }
      throw err;
    }
  };
  const dl = mkdtempSync(join(tmpdir(), 'mlops-chaos-ledger-'));
  return {
    async run(runId) {
      const r = await read<{ status: string; params: Record<string, string> }>('get_run', { run_id: runId });
      if (r.ok) return r.result;
      if (r.error.error_code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw new Error(`ledger: reading run ${runId} failed: ${r.error.message}`);
    },
    async metricHistory(runId, key) {
      const r = await read<{ history: { step: number; value: number }[] }>('metric_history', { run_id: runId, key });
      if (!r.ok) throw new Error(`ledger: reading metric ${key} of run ${runId} failed: ${r.error.message}`);
      return r.result.history;
    },
    async artifactSha256s(runId, paths) {
      // One listing per directory, listings and downloads side by side (worker op
      // `artifact_digests`): a download each lists again and took about 0.5 s, seconds per experiment.
      const r = await read<{ sha256: Record<string, string | null> }>('artifact_digests', { run_id: runId, paths, dst: mkdtempSync(join(dl, 'r-')) });
      if (!r.ok) throw new Error(`ledger: reading the artifacts of run ${runId} failed: ${r.error.message}`);
      return new Map(paths.map((p) => [p, r.result.sha256[p] ?? undefined]));
    },
    async modelVersionStatus(name, version) {
      const r = await read<{ status: string }>('get_version', { name, version });
      if (r.ok) return r.result.status;
      if (r.error.error_code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw new Error(`ledger: reading model version ${name} v${version} failed: ${r.error.message}`);
    },
    async modelVersionsFrom(name, runId, source) {
      const r = await read<{ versions: { version: string; source: string }[] }>('find_versions', { name, run_id: runId });
      if (!r.ok) throw new Error(`ledger: finding versions of ${name} from run ${runId} failed: ${r.error.message}`);
      return r.result.versions
        // The server may store the source resolved (runs:/ → its artifact location): the last segment is unique per registration.
        .filter((v) => v.source === source || v.source.endsWith(`/${source.split('/').at(-1)}`))
        .map((v) => v.version);
    },
    async [Symbol.asyncDispose]() {
      await started?.[Symbol.asyncDispose]();
      rmSync(dl, { recursive: true, force: true });
    },
  };
}
