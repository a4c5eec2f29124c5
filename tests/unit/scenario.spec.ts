import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../src/paths.ts';
import { LIMITS, loadScenarios, ScenarioError, validateScenario } from '../../src/scenario/load.ts';

const good = {
  name: 'ok',
  description: 'a valid scenario',
  platforms: ['mlflow'],
  workload: ['mlflow.training'],
  fault: { type: 'latency', edge: 'mlflow->postgres', params: { latencyMs: 200 }, duration: '10s' },
  expect: { 'mlflow.tracking': 'observable', 'mlflow.artifacts': 'observable' },
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
    expect(s.steadyMs).toBe(1_500);
    expect(s.budgetSpec).toEqual({ minSuccessRate: 0.99, p95: { kind: 'default' } });
    expect(s.budget).toEqual({ minSuccessRate: 0.99, maxP95Ms: 2_000 });
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

  test('notUnderCpuHog must say why, in a sentence', () => {
    expect(problems({ ...good, notUnderCpuHog: true })).toEqual([expect.stringContaining('notUnderCpuHog: allowed: a sentence')]);
    expect(problems({ ...good, notUnderCpuHog: 'racy' })).toEqual([expect.stringContaining('notUnderCpuHog: allowed: a sentence')]);
    expect(validateScenario('scenarios/x.yaml', { ...good, notUnderCpuHog: '  a timing race a starved machine hides ' }).notUnderCpuHog).toBe('a timing race a starved machine hides');
  });

  test('negative and malformed durations', () => {
    expect(problems({ ...good, fault: { ...good.fault, duration: '-5s' } })).toEqual([expect.stringContaining("fault.duration: '-5s' is not a positive duration")]);
    expect(problems({ ...good, deadlines: { operation: 'soon' } })).toEqual([expect.stringContaining("deadlines.operation: 'soon' is not a positive duration")]);
  });

  test('every duration has an upper bound, named in the error', () => {
    expect(problems({ ...good, fault: { ...good.fault, duration: '100000m' } })).toEqual(["scenarios/x.yaml: fault.duration: '100000m' is longer than the 15m a fault may last"]);
    expect(problems({ ...good, deadlines: { operation: '11m' } })).toEqual(["scenarios/x.yaml: deadlines.operation: '11m' is longer than the 10m an operation may take before it is a hang"]);
    expect(problems({ ...good, deadlines: { recovery: '16m' } })).toEqual(["scenarios/x.yaml: deadlines.recovery: '16m' is longer than the 15m recovery may take after the fault is reverted"]);
    expect(problems({ ...good, deadlines: { healthGrace: '301s' } })).toEqual(["scenarios/x.yaml: deadlines.healthGrace: '301s' is longer than the 5m a health check may stay green while its capability fails"]);
    expect(problems({ ...good, steady: '6m' })).toEqual(["scenarios/x.yaml: steady: '6m' is longer than the 5m a steady-state observation may last"]);
    expect(problems({ ...good, budget: { p95: '100000m' } })).toEqual(["scenarios/x.yaml: budget.p95: '100000m' is longer than the 10m a p95 budget may allow"]);
  });

  test('each bound itself is allowed', () => {
    const m = (ms: number) => `${ms / 60_000}m`;
    const d = LIMITS.durations;
    const s = validateScenario('x.yaml', {
      ...good,
      fault: { ...good.fault, duration: m(d['fault.duration'].maxMs) },
      deadlines: { operation: m(d['deadlines.operation'].maxMs), recovery: m(d['deadlines.recovery'].maxMs), healthGrace: m(d['deadlines.healthGrace'].maxMs) },
      steady: m(d.steady.maxMs),
      budget: { p95: m(d['budget.p95'].maxMs) },
    });
    expect(s.observeMs).toBe(15 * 60_000);
    expect(s.deadlines).toEqual({ operationMs: 10 * 60_000, recoveryMs: 15 * 60_000, healthGraceMs: 5 * 60_000 });
    expect(s.steadyMs).toBe(5 * 60_000);
    expect(s.budgetSpec.p95).toEqual({ kind: 'absolute', ms: 10 * 60_000 });
  });

  test('steady must be a positive duration, like the others', () => {
    expect(problems({ ...good, steady: '0s' })).toEqual(["scenarios/x.yaml: steady: '0s' is not a positive duration; use e.g. 30s, 500ms, 2m (at most 5m)"]);
    expect(problems({ ...good, steady: 5 })).toEqual([expect.stringContaining("steady: '5' is not a positive duration")]);
    expect(validateScenario('x.yaml', { ...good, steady: '10s' }).steadyMs).toBe(10_000);
  });

  test('budget.p95: absolute, or a multiple of the steady-state median', () => {
    const abs = validateScenario('x.yaml', { ...good, budget: { successRate: 0.9, p95: '5s' } });
    expect(abs.budgetSpec).toEqual({ minSuccessRate: 0.9, p95: { kind: 'absolute', ms: 5_000 } });
    expect(abs.budget).toEqual({ minSuccessRate: 0.9, maxP95Ms: 5_000 });
    const rel = validateScenario('x.yaml', { ...good, budget: { p95: '10x' } });
    expect(rel.budgetSpec).toEqual({ minSuccessRate: 0.99, p95: { kind: 'relative', factor: 10 } });
    expect(rel.budget, 'the absolute budget keeps its default while the engine does not read budgetSpec').toEqual({ minSuccessRate: 0.99, maxP95Ms: 2_000 });
    expect(validateScenario('x.yaml', { ...good, budget: { p95: '1.5x' } }).budgetSpec.p95).toEqual({ kind: 'relative', factor: 1.5 });
    expect(validateScenario('x.yaml', { ...good, budget: { p95: '100x' } }).budgetSpec.p95).toEqual({ kind: 'relative', factor: 100 });
    for (const v of ['0.5x', '1x', '101x']) {
      expect(problems({ ...good, budget: { p95: v } }), v).toEqual([`scenarios/x.yaml: budget.p95: '${v}' must be more than 1x and at most 100x the capability's steady-state median`]);
    }
    for (const v of ['abc', 'x', '-2x', 10]) {
      expect(problems({ ...good, budget: { p95: v } }), String(v)).toEqual([expect.stringContaining(`budget.p95: '${v}' is neither a duration (e.g. 5s, at most 10m) nor a multiple of the capability's steady-state median (e.g. 10x, more than 1x and at most 100x)`)]);
    }
    expect(problems({ ...good, budget: { p95: '0s' } })).toEqual([expect.stringContaining("budget.p95: '0s' is not a positive duration")]);
  });

  test('a missing required fault parameter, and one that does not exist', () => {
    const p = problems({ ...good, fault: { ...good.fault, params: { latencySeconds: 3 } } });
    expect(p).toContain('scenarios/x.yaml: fault.params.latencySeconds: not a parameter of latency; allowed: latencyMs, jitterMs');
    expect(p).toContain('scenarios/x.yaml: fault.params.latencyMs: required for latency (added delay per response, ms)');
  });

  test('an expected silent verdict needs an upstream link', () => {
    expect(problems({ ...good, expect: { ...good.expect, 'mlflow.tracking': 'silent' } })).toEqual([expect.stringContaining('expect.mlflow.tracking.known: an expected silent verdict needs known:')]);
    expect(problems({ ...good, expect: { ...good.expect, 'mlflow.tracking': { verdict: 'silent', known: 'https://github.com/mlflow/mlflow/issues/1' } } })).toEqual([]);
  });

  test('every capability the workloads report needs an expectation', () => {
    expect(problems({ ...good, expect: { 'mlflow.tracking': 'observable' } })).toEqual([
      'scenarios/x.yaml: expect: missing an expectation for mlflow.artifacts; each capability the workloads report needs one of resilient | observable | silent (silent with known: <upstream link>)',
    ]);
    const { expect: _e, ...none } = good;
    expect(problems({ ...none, workload: ['mlflow.training', 'mlflow.serving'] })).toEqual([expect.stringContaining('expect: missing an expectation for mlflow.tracking, mlflow.artifacts, mlflow.serving;')]);
    // mlflow.health reports no capability of its own: nothing to expect from it.
    expect(problems({ ...good, workload: ['mlflow.training', 'mlflow.health'] })).toEqual([]);
  });

  test('unobserved cannot be expected, alone or with a link', () => {
    expect(problems({ ...good, expect: { ...good.expect, 'mlflow.tracking': 'unobserved' } })).toEqual([
      expect.stringMatching(/^scenarios\/x\.yaml: expect\.mlflow\.tracking: unobserved cannot be expected: .*resilient, observable, silent$/),
    ]);
    expect(problems({ ...good, expect: { ...good.expect, 'mlflow.tracking': { verdict: 'unobserved', known: 'https://example.org/1' } } })).toEqual([expect.stringContaining('expect.mlflow.tracking: unobserved cannot be expected')]);
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
    expect(problems({ ...good, workload: ['mlflow.registry'], expect: { 'mlflow.registry': 'observable' }, fault: { type: 'client-kill', workload: 'mlflow.training', duration: '5s' } })).toEqual([
      "scenarios/x.yaml: fault.workload: 'mlflow.training' is not in this scenario's workload list",
    ]);
  });

  test('a fault on a mesh\'s server sidecar needs that mesh, on its edge, with a server in it', () => {
    const serving = { ...good, platforms: ['kubeflow'], workload: ['kserve.predict'], expect: { 'kserve.v1': 'resilient', 'kserve.v2': 'resilient' } };
    const fault = { type: 'mtls-strict', edge: 'client->kserve', duration: '15s' };
    const mesh = { edge: 'client->kserve', client: 'istio-1.28', server: 'istio-1.28' };
    expect(validateScenario('x.yaml', { ...serving, mesh, fault }).fault).toEqual({ type: 'mtls-strict', target: 'client->kserve', params: {}, durationMs: 15_000 });
    const want = ['scenarios/x.yaml: fault.edge: mtls-strict acts on the server sidecar of the scenario\'s mesh: add mesh: { edge: client->kserve, client: <release>, server: <release> }'];
    expect(problems({ ...serving, fault })).toEqual(want);
    expect(problems({ ...serving, mesh: { ...mesh, server: 'none' }, fault })).toEqual(want);
    expect(problems({ ...serving, mesh: { ...mesh, edge: 'client->mlflow' }, fault })).toEqual(want);
    expect(problems({ ...serving, mesh, fault: { ...fault, edge: 'kserve->s3' } })).toEqual([expect.stringContaining("fault.edge: 'kserve->s3' is not an edge mtls-strict acts on; allowed: client->kserve, client->mlflow")]);
  });

  test('a fault on a mesh\'s client sidecar needs that mesh on its edge, with or without a server sidecar', () => {
    const serving = { ...good, platforms: ['kubeflow'], workload: ['kserve.predict'], expect: { 'kserve.v1': 'observable', 'kserve.v2': 'observable' } };
    const fault = { type: 'sidecar-not-ready', edge: 'client->kserve', duration: '10s' };
    const mesh = { edge: 'client->kserve', client: 'istio-1.28', server: 'none' };
    expect(validateScenario('x.yaml', { ...serving, mesh, fault }).fault).toEqual({ type: 'sidecar-not-ready', target: 'client->kserve', params: {}, durationMs: 10_000 });
    const want = ["scenarios/x.yaml: fault.edge: sidecar-not-ready acts on the client sidecar of the scenario's mesh: add mesh: { edge: client->kserve, client: <release> }"];
    expect(problems({ ...serving, fault })).toEqual(want);
    expect(problems({ ...serving, mesh: { ...mesh, edge: 'client->mlflow' }, fault })).toEqual(want);
  });

  test('network-policy names a component with a client edge (the cut is confirmed through it), and admitEdge is 0 or 1', () => {
    const np = (fault: Record<string, unknown>) => ({
      ...good,
      platforms: ['kubeflow'],
      workload: ['kserve.predict'],
      fault: { type: 'network-policy', duration: '20s', ...fault },
      expect: { 'kserve.v1': 'observable', 'kserve.v2': 'observable' },
    });
    expect(problems(np({ process: 'kserve' }))).toEqual([]);
    expect(problems(np({ process: 'kserve', params: { admitEdge: 1 } }))).toEqual([]);
    expect(problems(np({ process: 'postgres' }))).toEqual([expect.stringContaining("fault.process: 'postgres' is not a process network-policy acts on; allowed: kserve, mlflow, mlflow-serving")]);
    expect(problems(np({ process: 'kserve', params: { admitEdge: 2 } })).join('\n')).toMatch(/fault\.params\.admitEdge: .*1/);
  });

  test('restart: only under an edge fault, only a server that can start afresh', () => {
    const ok = validateScenario('x.yaml', { ...good, fault: { type: 'outage', edge: 'kserve->s3', restart: 'kserve', duration: '5s' } });
    expect(ok.fault?.restart).toBe('kserve');
    expect(problems({ ...good, fault: { type: 'outage', edge: 'kserve->s3', restart: 'postgres', duration: '5s' } })).toEqual([
      "scenarios/x.yaml: fault.restart: 'postgres' cannot be started afresh; allowed: mlflow-serving, kserve, mlflow",
    ]);
    expect(problems({ ...good, fault: { type: 'kill', process: 'kserve', restart: 'kserve', duration: '5s' } })).toEqual([
      'scenarios/x.yaml: fault.restart: only an edge fault, or a fault on what a new start needs (resource-quota), can hold while a process starts afresh; kill acts on a running process',
    ]);
  });

  test('every shipped scenario file is valid, and expects a verdict of every capability it reports', () => {
    const dir = join(repoRoot, 'scenarios');
    const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
    const all = loadScenarios(files.map((f) => join(dir, f)));
    expect(all.length).toBe(files.length);
    expect(all.length).toBeGreaterThan(10);
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
