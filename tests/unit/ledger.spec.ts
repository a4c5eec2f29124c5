import { test, expect } from '@playwright/test';
import { Ledger, type LedgerReader } from '../../src/ledger/ledger.ts';

/** A fake of what the platform returns after recovery: the ledger's own logic is under test. */
function fakeReader(state: {
  runs: Record<string, { status: string; params: Record<string, string> }>;
  metrics?: Record<string, { step: number; value: number }[]>;
  artifacts?: Record<string, string>;
  versions?: Record<string, string>;
}): LedgerReader {
  return {
    run: async (id) => state.runs[id],
    metricHistory: async (id, key) => state.metrics?.[`${id}/${key}`] ?? [],
    artifactSha256: async (id, path) => state.artifacts?.[`${id}/${path}`],
    modelVersionStatus: async (name, version) => state.versions?.[`${name}/${version}`],
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
});
