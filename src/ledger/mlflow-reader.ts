import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { timeouts } from '../timeouts.ts';
import { openMlflowClient } from '../workloads/mlflow-client.ts';
import type { PythonWorker } from '../workloads/python-worker.ts';
import type { LedgerReader } from './ledger.ts';

/**
 * Reads back what MLflow holds now, straight from the tracking server (no edge, no fault), with
 * the real client. Returns a reader and its disposer. The client process starts on the first
 * read: an experiment that wrote nothing (serving alone) pays no Python start-up for it.
 */
export function mlflowLedgerReader(trackingUri: string, logDir: string, env: Readonly<Record<string, string>> = {}): LedgerReader & AsyncDisposable {
  let started: PythonWorker | undefined;
  const worker = () => (started ??= openMlflowClient({ trackingUri, logDir, name: 'ledger-reader', env }));
  const dl = mkdtempSync(join(tmpdir(), 'mlops-chaos-ledger-'));
  const deadline = timeouts.mlflowClientOp;
  return {
    async run(runId) {
      const r = await worker().call<{ status: string; params: Record<string, string> }>('get_run', { run_id: runId }, deadline);
      if (r.ok) return r.result;
      if (r.error.error_code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw new Error(`ledger: reading run ${runId} failed: ${r.error.message}`);
    },
    async metricHistory(runId, key) {
      return (await worker().ok<{ history: { step: number; value: number }[] }>('metric_history', { run_id: runId, key }, deadline)).history;
    },
    async artifactSha256(runId, path) {
      const r = await worker().call<{ sha256: string }>('download_artifact', { run_id: runId, artifact_path: path, dst: dl }, deadline);
      return r.ok ? r.result.sha256 : undefined;
    },
    async modelVersionStatus(name, version) {
      const r = await worker().call<{ status: string }>('get_version', { name, version }, deadline);
      if (r.ok) return r.result.status;
      if (r.error.error_code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw new Error(`ledger: reading model version ${name} v${version} failed: ${r.error.message}`);
    },
    async modelVersionsFrom(name, runId, source) {
      return (await worker().ok<{ versions: { version: string; source: string }[] }>('find_versions', { name, run_id: runId }, deadline)).versions
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
