import type { LedgerFinding } from '../verdict/types.ts';

/** A write a client saw acknowledged. */
export type LedgerEntry =
  | { capability: string; kind: 'param'; runId: string; key: string; value: string }
  | { capability: string; kind: 'metric'; runId: string; key: string; step: number; value: number }
  | { capability: string; kind: 'artifact'; runId: string; path: string; sha256: string }
  /** A registered model version and the artifact its source must hold. */
  | { capability: string; kind: 'model-version'; name: string; version: string; runId: string; artifact: string }
  /** A run a probe started; `ended` once the probe ended it after recovery. */
  | { capability: string; kind: 'run'; runId: string; ended: boolean };

/** What the platform returns now, read by the harness after recovery. */
export interface LedgerReader {
  run(runId: string): Promise<{ status: string; params: Record<string, string> } | undefined>;
  metricHistory(runId: string, key: string): Promise<{ step: number; value: number }[]>;
  artifactSha256(runId: string, path: string): Promise<string | undefined>;
  modelVersionStatus(name: string, version: string): Promise<string | undefined>;
}

export class Ledger {
  readonly entries: LedgerEntry[] = [];

  add(e: LedgerEntry): void {
    this.entries.push(e);
  }

  markEnded(runId: string): void {
    for (const e of this.entries) if (e.kind === 'run' && e.runId === runId) e.ended = true;
  }

  /** Lost, altered and zombie entries; pure given the reader's answers. */
  async reconcile(read: LedgerReader): Promise<LedgerFinding[]> {
    const out: LedgerFinding[] = [];
    const runs = new Map<string, Awaited<ReturnType<LedgerReader['run']>>>();
    const runOf = async (id: string) => {
      if (!runs.has(id)) runs.set(id, await read.run(id));
      return runs.get(id);
    };
    const histories = new Map<string, { step: number; value: number }[]>();
    for (const e of this.entries) {
      if (e.kind === 'model-version') {
        const status = await read.modelVersionStatus(e.name, e.version);
        if (status === undefined) out.push({ capability: e.capability, kind: 'lost', detail: `model version ${e.name} v${e.version} was registered and is gone` });
        else if (status === 'READY' && (await read.artifactSha256(e.runId, e.artifact)) === undefined) {
          out.push({ capability: e.capability, kind: 'dangling-source', detail: `model version ${e.name} v${e.version} is READY but its source runs:/${e.runId}/${e.artifact} does not exist` });
        }
        continue;
      }
      const run = await runOf(e.runId);
      if (e.kind === 'run') {
        if (!run) out.push({ capability: e.capability, kind: 'lost', detail: `run ${e.runId} was created and is gone` });
        else if (run.status === 'RUNNING') out.push({ capability: e.capability, kind: 'zombie', detail: `run ${e.runId} still RUNNING after its client ${e.ended ? 'ended it' : 'went away'}` });
      } else if (e.kind === 'param') {
        const v = run?.params[e.key];
        if (v === undefined) out.push({ capability: e.capability, kind: 'lost', detail: `param ${e.key}=${e.value} of run ${e.runId}` });
        else if (v !== e.value) out.push({ capability: e.capability, kind: 'altered', detail: `param ${e.key} of run ${e.runId}: acknowledged ${e.value}, now ${v}` });
      } else if (e.kind === 'metric') {
        const hk = `${e.runId}/${e.key}`;
        if (!histories.has(hk)) histories.set(hk, await read.metricHistory(e.runId, e.key));
        const points = histories.get(hk)!.filter((m) => m.step === e.step);
        if (points.length === 0) out.push({ capability: e.capability, kind: 'lost', detail: `metric ${e.key} step ${e.step} of run ${e.runId}` });
        else if (!points.some((m) => m.value === e.value)) out.push({ capability: e.capability, kind: 'altered', detail: `metric ${e.key} step ${e.step}: acknowledged ${e.value}, now ${points.map((m) => m.value).join(',')}` });
      } else {
        const sha = await read.artifactSha256(e.runId, e.path);
        if (sha === undefined) {
          out.push({ capability: e.capability, kind: run?.status === 'FINISHED' ? 'missing-artifact' : 'lost', detail: `artifact ${e.path} of run ${e.runId} (${run?.status ?? 'run gone'}) is missing` });
        } else if (sha !== e.sha256) out.push({ capability: e.capability, kind: 'altered', detail: `artifact ${e.path} of run ${e.runId}: sha256 ${sha.slice(0, 12)} ≠ acknowledged ${e.sha256.slice(0, 12)}` });
      }
    }
    return out;
  }
}
