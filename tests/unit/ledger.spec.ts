import { test, expect } from '@playwright/test';
import { Ledger, type LedgerReader } from '../../src/ledger/ledger.ts';

/** A fake of what the platform returns after recovery: the ledger's own logic is under test. */
function fakeReader(state: {
  runs: Record<string, { status: string; params: Record<string, string> }>;
  metrics?: Record<string, { step: number; value: number }[]>;
  artifacts?: Record<string, string>;
  versions?: Record<string, string>;
  /** `name/runId` → sources of the versions registered from that run. */
  sources?: Record<string, string[]>;
}): LedgerReader {
  return {
    run: async (id) => state.runs[id],
    metricHistory: async (id, key) => state.metrics?.[`${id}/${key}`] ?? [],
    artifactSha256s: async (id, paths) => new Map(paths.map((p) => [p, state.artifacts?.[`${id}/${p}`]])),
    modelVersionStatus: async (name, version) => state.versions?.[`${name}/${version}`],
    modelVersionsFrom: async (name, runId, source) => (state.sources?.[`${name}/${runId}`] ?? []).filter((s) => s === source),
  };
}

const cap = 'mlflow.tracking';

test.describe('ledger reconciliation', () => {
  test('everything acknowledged is there: no findings', async () => {
    const l = new Ledger();
    l.add({ capability: cap, kind: 'run', runId: 'r1', ended: true });
    l.add({ capability: cap, kind: 'param', runId: 'r1', key: 'lr', value: '0.1' });
    l.add({ capability: cap, kind: 'metric', runId: 'r1', key: 'loss', step: 3, value: 0.5 });
    l.add({ capability: cap, kind: 'artifact', runId: 'r1', path: 'a.txt', sha256: 'abc' });
    l.add({ capability: 'mlflow.registry', kind: 'model-version', name: 'm', version: '2', runId: 'r1', artifact: 'model/m.txt' });
    const f = await l.reconcile(fakeReader({
      runs: { r1: { status: 'FINISHED', params: { lr: '0.1' } } },
      metrics: { 'r1/loss': [{ step: 3, value: 0.5 }] },
      artifacts: { 'r1/a.txt': 'abc', 'r1/model/m.txt': 'def' },
      versions: { 'm/2': 'READY' },
    }));
    expect(f).toEqual([]);
  });

  test('lost and altered params, metrics and artifacts', async () => {
    const l = new Ledger();
    l.add({ capability: cap, kind: 'param', runId: 'r1', key: 'lr', value: '0.1' });
    l.add({ capability: cap, kind: 'param', runId: 'r1', key: 'gone', value: 'x' });
    l.add({ capability: cap, kind: 'metric', runId: 'r1', key: 'loss', step: 3, value: 0.5 });
    l.add({ capability: cap, kind: 'metric', runId: 'r1', key: 'loss', step: 4, value: 0.4 });
    l.add({ capability: cap, kind: 'artifact', runId: 'r1', path: 'a.txt', sha256: 'abc' });
    const f = await l.reconcile(fakeReader({
      runs: { r1: { status: 'RUNNING', params: { lr: '0.2' } } },
      metrics: { 'r1/loss': [{ step: 3, value: 0.7 }] },
      artifacts: { 'r1/a.txt': 'zzz' },
    }));
    expect(f.map((x) => x.kind)).toEqual(['altered', 'lost', 'altered', 'lost', 'altered']);
  });

  test('a FINISHED run missing an acknowledged artifact; a run stuck RUNNING; a READY version without its source', async () => {
    const l = new Ledger();
    l.add({ capability: cap, kind: 'run', runId: 'r2', ended: false });
    l.add({ capability: cap, kind: 'artifact', runId: 'r1', path: 'model.bin', sha256: 'abc' });
    l.add({ capability: 'mlflow.registry', kind: 'model-version', name: 'm', version: '3', runId: 'r1', artifact: 'model-8/m.txt' });
    const f = await l.reconcile(fakeReader({
      runs: { r1: { status: 'FINISHED', params: {} }, r2: { status: 'RUNNING', params: {} } },
      versions: { 'm/3': 'READY' },
    }));
    expect(f.map((x) => x.kind)).toEqual(['zombie', 'missing-artifact', 'dangling-source']);
    expect(f[2]!.detail).toContain('m v3 is READY but its source runs:/r1/model-8/m.txt does not exist');
  });

  test('a registered version that disappeared is lost', async () => {
    const l = new Ledger();
    l.add({ capability: 'mlflow.registry', kind: 'model-version', name: 'm', version: '4', runId: 'r1', artifact: 'x' });
    const f = await l.reconcile(fakeReader({ runs: {} }));
    expect(f.map((x) => x.kind)).toEqual(['lost']);
  });

  const refused = { ok: false as const, answered: true, message: 'RestException: INTERNAL_ERROR: commit failed' };
  const timedOut = { ok: false as const, answered: false, message: 'timed out after 8000 ms' };

  test('a write the platform said failed, and which is there, is a phantom; one that is not there is not', async () => {
    const l = new Ledger();
    l.record(cap, { kind: 'metric', runId: 'r1', key: 'loss', step: 5, value: 0.2 }, refused);
    l.record(cap, { kind: 'metric', runId: 'r1', key: 'loss', step: 6, value: 0.1 }, refused);
    l.record(cap, { kind: 'param', runId: 'r1', key: 'p3', value: 'ab' }, refused);
    l.record(cap, { kind: 'param', runId: 'r1', key: 'p6', value: 'cd' }, refused);
    l.record('mlflow.artifacts', { kind: 'artifact', runId: 'r1', path: 'c/a.txt', sha256: 'abc' }, refused);
    l.add({ capability: 'mlflow.registry', kind: 'failed', write: { kind: 'registration', name: 'm', runId: 'r1', source: 'runs:/r1/model-4' }, told: 'INTERNAL_ERROR', answered: true });
    l.add({ capability: 'mlflow.registry', kind: 'failed', write: { kind: 'registration', name: 'm', runId: 'r1', source: 'runs:/r1/model-8' }, told: 'INTERNAL_ERROR', answered: true });
    const f = await l.reconcile(fakeReader({
      runs: { r1: { status: 'FINISHED', params: { p3: 'ab' } } },
      metrics: { 'r1/loss': [{ step: 5, value: 0.2 }] },
      artifacts: { 'r1/c/a.txt': 'abc' },
      sources: { 'm/r1': ['runs:/r1/model-4'] },
    }));
    expect(f.map((x) => `${x.capability} ${x.kind}`)).toEqual(['mlflow.tracking phantom', 'mlflow.tracking phantom', 'mlflow.artifacts phantom', 'mlflow.registry phantom']);
    expect(f[0]!.detail).toContain('metric loss step 5 of run r1: the client was told it failed (RestException: INTERNAL_ERROR: commit failed), and it happened');
  });

  test('a write that timed out and happened anyway is an unknown outcome, not a phantom', async () => {
    const l = new Ledger();
    l.record(cap, { kind: 'param', runId: 'r1', key: 'p3', value: 'ab' }, timedOut);
    const f = await l.reconcile(fakeReader({ runs: { r1: { status: 'FINISHED', params: { p3: 'ab' } } } }));
    expect(f.map((x) => x.kind)).toEqual(['unknown-outcome']);
  });

  test('a failed write that happened with another value is not a phantom of it', async () => {
    const l = new Ledger();
    l.record(cap, { kind: 'metric', runId: 'r1', key: 'loss', step: 5, value: 0.2 }, refused);
    const f = await l.reconcile(fakeReader({ runs: { r1: { status: 'FINISHED', params: {} } }, metrics: { 'r1/loss': [{ step: 5, value: 0.9 }] } }));
    expect(f).toEqual([]);
  });

  test("a run's artifacts are read back in one batch, acknowledged, failed and a version's source alike", async () => {
    const l = new Ledger();
    l.add({ capability: 'mlflow.artifacts', kind: 'artifact', runId: 'r1', path: 'a/1.txt', sha256: 'one' });
    l.add({ capability: 'mlflow.artifacts', kind: 'artifact', runId: 'r1', path: 'a/2.txt', sha256: 'two' });
    l.record('mlflow.artifacts', { kind: 'artifact', runId: 'r1', path: 'a/3.txt', sha256: 'three' }, refused);
    l.add({ capability: 'mlflow.registry', kind: 'model-version', name: 'm', version: '1', runId: 'r2', artifact: 'model/m.txt' });
    const batches: string[] = [];
    const reader = fakeReader({ runs: { r1: { status: 'FINISHED', params: {} }, r2: { status: 'FINISHED', params: {} } }, artifacts: { 'r1/a/1.txt': 'one' }, versions: { 'm/1': 'READY' } });
    const read = reader.artifactSha256s;
    reader.artifactSha256s = async (id, paths) => (batches.push(`${id}: ${paths.join(' ')}`), read(id, paths));
    const f = await l.reconcile(reader);
    expect(batches).toEqual(['r1: a/1.txt a/2.txt a/3.txt', 'r2: model/m.txt']);
    expect(f.map((x) => `${x.kind} ${x.detail.split(' ').slice(0, 2).join(' ')}`)).toEqual(['missing-artifact artifact a/2.txt', 'dangling-source model version']);
  });
});
