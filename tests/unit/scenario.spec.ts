import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../src/paths.ts';
import { loadScenarios, ScenarioError, validateScenario } from '../../src/scenario/load.ts';

const good = {
  name: 'ok',
  description: 'a valid scenario',
  platforms: ['mlflow'],
  workload: ['mlflow.training'],
  fault: { type: 'latency', edge: 'mlflow->postgres', params: { latencyMs: 200 }, duration: '10s' },
  expect: { 'mlflow.tracking': 'observable' },
  deadlines: { operation: '30s', recovery: '60s' },
};

function problems(raw: unknown): string[] {
  try {
    validateScenario('scenarios/x.yaml', raw);
    return [];
  } catch (err) {
    if (err instanceof ScenarioError) return err.problems;
    throw err;
  }
}

test.describe('scenario validation', () => {
  test('a valid file parses into durations in ms and defaults', () => {
    const s = validateScenario('x.yaml', good);
    expect(s.fault).toEqual({ type: 'latency', target: 'mlflow->postgres', params: { latencyMs: 200, jitterMs: 0 }, durationMs: 10_000 });
    expect(s.deadlines).toEqual({ operationMs: 30_000, recoveryMs: 60_000, healthGraceMs: 5_000 });
    expect(s.client).toEqual({ maxRetries: 2, backoffFactor: 1, timeoutSeconds: 10, venv: 'mlflow3' });
  });

  test('unknown fault: names file, field and the allowed faults', () => {
    const p = problems({ ...good, fault: { ...good.fault, type: 'meltdown' } });
    expect(p).toEqual([expect.stringMatching(/^scenarios\/x\.yaml: fault\.type: unknown fault 'meltdown'; allowed: outage, blackhole, .*none$/)]);
  });

  test('unknown edge: names the allowed edges', () => {
    const p = problems({ ...good, fault: { ...good.fault, edge: 'mlflow->redis' } });
    expect(p.join('\n')).toMatch(/fault\.edge: 'mlflow->redis' is not an edge latency acts on; allowed: client->mlflow, mlflow->postgres/);
  });

  test('missing fields: each one named', () => {
    const { description: _d, fault: _f, ...rest } = good;
    const p = problems(rest);
    expect(p.some((x) => x.includes('description: required'))).toBe(true);
    expect(p.some((x) => x.includes('fault: required'))).toBe(true);
  });

  test('negative and malformed durations', () => {
    expect(problems({ ...good, fault: { ...good.fault, duration: '-5s' } })).toEqual([expect.stringContaining("fault.duration: '-5s' is not a positive duration")]);
    expect(problems({ ...good, deadlines: { operation: 'soon' } })).toEqual([expect.stringContaining("deadlines.operation: 'soon' is not a positive duration")]);
  });

  test('a missing required fault parameter, and one that does not exist', () => {
    const p = problems({ ...good, fault: { ...good.fault, params: { latencySeconds: 3 } } });
    expect(p).toContain('scenarios/x.yaml: fault.params.latencySeconds: not a parameter of latency; allowed: latencyMs, jitterMs');
    expect(p).toContain('scenarios/x.yaml: fault.params.latencyMs: required for latency (added delay per response, ms)');
  });

  test('an expected silent verdict needs an upstream link', () => {
    expect(problems({ ...good, expect: { 'mlflow.tracking': 'silent' } })).toEqual([expect.stringContaining('expect.mlflow.tracking.known: an expected silent verdict needs known:')]);
    expect(problems({ ...good, expect: { 'mlflow.tracking': { verdict: 'silent', known: 'https://github.com/mlflow/mlflow/issues/1' } } })).toEqual([]);
  });

  test('a capability no workload reports, and a workload of an unlisted platform', () => {
    const p = problems({ ...good, workload: ['mlflow.training', 'kserve.predict'], expect: { 'kserve.v3': 'resilient' } });
    expect(p.join('\n')).toMatch(/workload: 'kserve\.predict' belongs to platform kubeflow/);
    expect(p.join('\n')).toMatch(/expect\.kserve\.v3: no workload of this scenario reports it/);
  });

  test('process faults only on the processes they make sense for', () => {
    const p = problems({ ...good, fault: { type: 'conn-exhaustion', process: 'kserve', duration: '5s' } });
    expect(p).toEqual([expect.stringContaining("fault.process: 'kserve' is not a process conn-exhaustion acts on; allowed: postgres")]);
  });

  test('a client fault names a workload of the scenario, not an edge or a process', () => {
    const ok = validateScenario('x.yaml', { ...good, fault: { type: 'client-kill', workload: 'mlflow.training', duration: '5s' } });
    expect(ok.fault).toEqual({ type: 'client-kill', target: 'mlflow.training', params: {}, durationMs: 5_000 });
    expect(problems({ ...good, fault: { type: 'client-kill', process: 'mlflow', duration: '5s' } })).toEqual([
      "scenarios/x.yaml: fault.process: client-kill acts on a workload; use fault.workload",
      "scenarios/x.yaml: fault.workload: required; allowed: mlflow.training",
    ]);
    expect(problems({ ...good, workload: ['mlflow.registry'], expect: {}, fault: { type: 'client-kill', workload: 'mlflow.training', duration: '5s' } })).toEqual([
      "scenarios/x.yaml: fault.workload: 'mlflow.training' is not in this scenario's workload list",
    ]);
  });

  test('restart: only under an edge fault, only a server that can start afresh', () => {
    const ok = validateScenario('x.yaml', { ...good, fault: { type: 'outage', edge: 'kserve->s3', restart: 'kserve', duration: '5s' } });
    expect(ok.fault?.restart).toBe('kserve');
    expect(problems({ ...good, fault: { type: 'outage', edge: 'kserve->s3', restart: 'postgres', duration: '5s' } })).toEqual([
      "scenarios/x.yaml: fault.restart: 'postgres' cannot be started afresh; allowed: mlflow-serving, kserve, mlflow",
    ]);
    expect(problems({ ...good, fault: { type: 'kill', process: 'kserve', restart: 'kserve', duration: '5s' } })).toEqual([
      'scenarios/x.yaml: fault.restart: only an edge fault can hold while a process starts afresh; kill acts on a process',
    ]);
  });

  test('every shipped scenario file is valid', () => {
    const dir = join(repoRoot, 'scenarios');
    expect(loadScenarios(readdirSync(dir).map((f) => join(dir, f))).length).toBeGreaterThan(10);
  });

  test('the CLI exits 2 on a bad file, naming it, before any stack or fault exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-chaos-bad-'));
    const stateDir = mkdtempSync(join(tmpdir(), 'mlops-chaos-state-'));
    try {
      writeFileSync(join(dir, 'bad.yaml'), 'name: bad\ndescription: x\nplatforms: [mlflow]\nworkload: [mlflow.training]\nfault: { type: outage, edge: nowhere, duration: 5s }\n');
      const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'mlops-chaos.js'), 'run', join(dir, 'bad.yaml')], { encoding: 'utf8', env: { ...process.env, MLOPS_CHAOS_STATE_DIR: stateDir } });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`${join(dir, 'bad.yaml')}: fault.edge: 'nowhere' is not an edge outage acts on; allowed:`);
      expect(readdirSync(stateDir), 'no stack was recorded').toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
