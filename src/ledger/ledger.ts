import type { LedgerFinding } from '../verdict/types.ts';

/** A write whose effect can be read back exactly. */
export type Write =
  | { kind: 'param'; runId: string; key: string; value: string }
  | { kind: 'metric'; runId: string; key: string; step: number; value: number }
  | { kind: 'artifact'; runId: string; path: string; sha256: string };

/** A registration the client was told failed; found again by its (unique) source. */
export type FailedRegistration = { kind: 'registration'; name: string; runId: string; source: string };

/** What the client was told about a write (structurally a probe's ClientOutcome). */
export type WriteOutcome = { ok: true } | { ok: false; answered: boolean; message: string };

/** A write a client saw acknowledged, or one it was told had failed. */
export type LedgerEntry =
  | ({ capability: string } & Write)
  /** A registered model version and the artifact its source must hold. */
  | { capability: string; kind: 'model-version'; name: string; version: string; runId: string; artifact: string }
  /** A run a probe started; `ended` once the probe ended it after recovery. */
  | { capability: string; kind: 'run'; runId: string; ended: boolean }
  /**
   * The client was told this write failed, so after recovery it must not be there. `answered`:
   * the platform said so itself (an HTTP error), rather than the client timing out.
   */
  | { capability: string; kind: 'failed'; write: Write | FailedRegistration; told: string; answered: boolean };

/** What the platform returns now, read by the harness after recovery. */
export interface LedgerReader {
  run(runId: string): Promise<{ status: string; params: Record<string, string> } | undefined>;
  metricHistory(runId: string, key: string): Promise<{ step: number; value: number }[]>;
  /** The sha256 of each of a run's artifacts at `paths`; undefined for one that is not there. */
  artifactSha256s(runId: string, paths: string[]): Promise<Map<string, string | undefined>>;
  modelVersionStatus(name: string, version: string): Promise<string | undefined>;
  /** Versions of `name` registered from run `runId` with exactly `source`. */
  modelVersionsFrom(name: string, runId: string, source: string): Promise<string[]>;
}

export class Ledger {
  readonly entries: LedgerEntry[] = [];

  add(e: LedgerEntry): void {
    this.entries.push(e);
  }

  /** A write as the client saw it end: acknowledged, or failed (and then it must not have happened). */
  record(capability: string, write: Write, outcome: WriteOutcome): void {
    this.add(outcome.ok ? { capability, ...write } : { capability, kind: 'failed', write, told: outcome.message, answered: outcome.answered });
  }

  markEnded(runId: string): void {
    for (const e of this.entries) if (e.kind === 'run' && e.runId === runId) e.ended = true;
  }

  /** Lost, altered, phantom and zombie entries; pure given the reader's answers. */
  async reconcile(read: LedgerReader): Promise<LedgerFinding[]> {
    const out: LedgerFinding[] = [];
    const runs = new Map<string, Awaited<ReturnType<LedgerReader['run']>>>();
    const runOf = async (id: string) => {
      if (!runs.has(id)) runs.set(id, await read.run(id));
      return runs.get(id);
    };
    const histories = new Map<string, { step: number; value: number }[]>();
    const digests = await artifactDigests(this.entries, read);
    const shaOf = (runId: string, path: string) => digests.get(runId)?.get(path);
    for (const e of this.entries) {
      if (e.kind === 'model-version') {
        const status = await read.modelVersionStatus(e.name, e.version);
        if (status === undefined) out.push({ capability: e.capability, kind: 'lost', detail: `model version ${e.name} v${e.version} was registered and is gone` });
        else if (status === 'READY' && shaOf(e.runId, e.artifact) === undefined) {
          out.push({ capability: e.capability, kind: 'dangling-source', detail: `model version ${e.name} v${e.version} is READY but its source runs:/${e.runId}/${e.artifact} does not exist` });
        }
        continue;
      }
      if (e.kind === 'failed') {
        if (await happened(e.write, read, runOf, histories, shaOf)) {
          out.push({
            capability: e.capability,
            kind: e.answered ? 'phantom' : 'unknown-outcome',
            detail: `${describe(e.write)}: the client was told it failed (${e.told.slice(0, 160)}), and it happened`,
          });
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
        const points = (await historyOf(e.runId, e.key, read, histories)).filter((m) => m.step === e.step);
        if (points.length === 0) out.push({ capability: e.capability, kind: 'lost', detail: `metric ${e.key} step ${e.step} of run ${e.runId}` });
        else if (!points.some((m) => m.value === e.value)) out.push({ capability: e.capability, kind: 'altered', detail: `metric ${e.key} step ${e.step}: acknowledged ${e.value}, now ${points.map((m) => m.value).join(',')}` });
      } else {
        const sha = shaOf(e.runId, e.path);
        if (sha === undefined) {
          out.push({ capability: e.capability, kind: run?.status === 'FINISHED' ? 'missing-artifact' : 'lost', detail: `artifact ${e.path} of run ${e.runId} (${run?.status ?? 'run gone'}) is missing` });
        } else if (sha !== e.sha256) out.push({ capability: e.capability, kind: 'altered', detail: `artifact ${e.path} of run ${e.runId}: sha256 ${sha.slice(0, 12)} ≠ acknowledged ${e.sha256.slice(0, 12)}` });
      }
    }
    return out;
  }
}

type Histories = Map<string, { step: number; value: number }[]>;

async function historyOf(runId: string, key: string, read: LedgerReader, cache: Histories): Promise<{ step: number; value: number }[]> {
  const k = `${runId}/${key}`;
  if (!cache.has(k)) cache.set(k, await read.metricHistory(runId, key));
  return cache.get(k)!;
}

/** Every artifact the entries name, read back in one batch per run: run id → path → sha256. */
async function artifactDigests(entries: readonly LedgerEntry[], read: LedgerReader): Promise<Map<string, Map<string, string | undefined>>> {
  const wanted = new Map<string, Set<string>>();
  const want = (runId: string, path: string) => (wanted.get(runId) ?? wanted.set(runId, new Set()).get(runId)!).add(path);
  for (const e of entries) {
    if (e.kind === 'artifact') want(e.runId, e.path);
    else if (e.kind === 'model-version') want(e.runId, e.artifact);
    else if (e.kind === 'failed' && e.write.kind === 'artifact') want(e.write.runId, e.write.path);
  }
  const out = new Map<string, Map<string, string | undefined>>();
  for (const [runId, paths] of wanted) out.set(runId, await read.artifactSha256s(runId, [...paths]));
  return out;
}

/** Whether a write the client was told failed is, after all, there exactly as it was sent. */
async function happened(
  w: Write | FailedRegistration,
  read: LedgerReader,
  runOf: (id: string) => ReturnType<LedgerReader['run']>,
  histories: Histories,
  shaOf: (runId: string, path: string) => string | undefined,
): Promise<boolean> {
  switch (w.kind) {
    case 'param':
      return (await runOf(w.runId))?.params[w.key] === w.value;
    case 'metric':
      return (await historyOf(w.runId, w.key, read, histories)).some((m) => m.step === w.step && m.value === w.value);
    case 'artifact':
      return shaOf(w.runId, w.path) === w.sha256;
    case 'registration':
      return (await read.modelVersionsFrom(w.name, w.runId, w.source)).length > 0;
  }
}

function describe(w: Write | FailedRegistration): string {
  switch (w.kind) {
    case 'param':
      return `param ${w.key}=${w.value} of run ${w.runId}`;
    case 'metric':
      return `metric ${w.key} step ${w.step} of run ${w.runId}`;
    case 'artifact':
      return `artifact ${w.path} of run ${w.runId}`;
    case 'registration':
      return `a version of ${w.name} from ${w.source}`;
  }
}
