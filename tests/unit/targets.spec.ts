import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../src/paths.ts';
import { FAULTS } from '../../src/faults/index.ts';
import { CONTAINER_FAULT_TARGETS } from '../../src/faults/container.ts';
import { loadScenarios, expandPaths } from '../../src/scenario/load.ts';
import { scenarioTargets } from '../../src/scenario/targets.ts';

/** The CLI as a user runs it, so exit codes and messages are what a user sees; nothing here starts a stack. */
function cli(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'mlops-chaos.js'), ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test.describe('targets on the command line', () => {
  test('an unknown target is refused before anything starts, naming the allowed ones', () => {
    const r = cli('chaos', 'baseline', '--target', 'vm');
    expect(r.code).toBe(2);
    expect(r.out).toContain("--target must be one of local, docker, kind; got 'vm'");
  });

  test('a container fault named on kind is refused before a cluster is made, naming the target it needs', () => {
    const r = cli('chaos', 'container-oom-serving', '--target', 'kind');
    expect(r.code).toBe(2);
    expect(r.out).toContain("container-oom-serving: fault 'oom' runs on docker only; add --target docker");
  });

  test('--images needs the docker target and one of its two values', () => {
    expect(cli('chaos', 'baseline', '--images', 'upstream').out).toContain('--images applies to the docker target only');
    const bad = cli('chaos', 'baseline', '--target', 'docker', '--images', 'latest');
    expect(bad.code).toBe(2);
    expect(bad.out).toContain("--images must be 'built'");
  });

  test('a container fault named on the local target is an error that says which target it needs', () => {
    const r = cli('chaos', 'container-oom-serving');
    expect(r.code).toBe(2);
    expect(r.out).toContain("container-oom-serving: fault 'oom' runs on docker only; add --target docker");
  });

  test('a container fault with a parameter out of range is refused with the field and the range', () => {
    const r = cli('run', join(repoRoot, 'tests', 'unit', 'data', 'bad-cpu-throttle.yaml'), '--target', 'docker');
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/fault\.params\.cpus.*1/);
  });
});

test.describe('container faults', () => {
  test('each exists only on container targets and acts on a component other than Toxiproxy', () => {
    for (const type of ['partition', 'cpu-throttle', 'oom', 'clock-skew', 'disk-full'] as const) {
      const f = FAULTS[type];
      expect(f.onlyOn, type).toEqual(['docker']);
      expect(f.on, type).toBe('process');
      expect(f.targets, type).not.toContain('toxiproxy');
      for (const t of f.targets ?? []) expect(CONTAINER_FAULT_TARGETS as readonly string[], type).toContain(t);
    }
  });

  test('every container and Kubernetes fault has a scenario, and the other faults exist everywhere', () => {
    const scenarios = loadScenarios(expandPaths([join(repoRoot, 'scenarios')]));
    for (const [type, f] of Object.entries(FAULTS)) {
      if (!f.onlyOn) continue;
      expect(scenarios.some((s) => s.fault?.type === type), `a scenario for ${type}`).toBe(true);
    }
    const local = Object.values(FAULTS).filter((f) => !f.onlyOn).length;
    expect(local).toBe(17);
  });
});

test.describe('mesh scenarios by target', () => {
  test('a mesh scenario runs on kind unless its server sidecar is beside a server whose pod kind cannot give one, which is kept to local and docker, with why', () => {
    const mesh = loadScenarios(expandPaths([join(repoRoot, 'scenarios')])).filter((s) => s.mesh);
    // Server sidecars beside both of kind's kinds of pod ship: KServe's predictor and the tracking server's Deployment.
    expect(mesh.filter((s) => s.mesh?.server).map((s) => s.mesh!.edge)).toEqual(expect.arrayContaining(['client->kserve', 'client->mlflow']));
    // The pipeline's edge has server-sidecar scenarios too; a pipeline task's pod is not one kind gives a sidecar.
    const kindless = (s: (typeof mesh)[number]) => !!s.mesh?.server && !['client->kserve', 'client->mlflow'].includes(s.mesh.edge);
    expect(mesh.filter(kindless).map((s) => s.name).sort()).toEqual(['mesh-mtls-strict-kfp', 'mesh-sidecar-not-ready-kfp']);
    for (const s of mesh) expect(scenarioTargets(s)?.targets, s.name).toEqual(kindless(s) ? ['local', 'docker'] : ['local', 'docker', 'kind']);
    const withServer = mesh.find((s) => s.mesh?.server)!;
    for (const edge of ['kfp->mlflow', 'client->mlflow-serving'] as const) {
      const t = scenarioTargets({ ...withServer, mesh: { ...withServer.mesh!, edge } });
      expect(t?.targets, edge).toEqual(['local', 'docker']);
      expect(t?.because, edge).toContain('on kind only KServe\'s predictor pod and the tracking server\'s');
    }
    expect(scenarioTargets({ ...withServer, mesh: { ...withServer.mesh!, edge: 'kfp->mlflow', server: null, tls: 'DISABLE' } })?.targets).toContain('kind');
  });
});
