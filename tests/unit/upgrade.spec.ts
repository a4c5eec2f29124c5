import { test, expect } from '@playwright/test';
import { main } from '../../src/cli.ts';
import { roleBin, overriddenVersions } from '../../src/targets/venv-overrides.ts';
import { venvOverridesRefusal } from '../../src/targets/index.ts';
import { parseUpgradeArgs, scenariosFor, sideDirs, UpgradeUsageError } from '../../src/upgrade/args.ts';
import { conflictingConstraints } from '../../src/upgrade/build-venv.ts';
import { COMPONENTS } from '../../src/upgrade/components.ts';
import { nearestVersions, parseIndexVersions, versionNotFoundMessage } from '../../src/upgrade/pypi.ts';
import { pinnedVersion, requirementName, venvSpec } from '../../src/upgrade/venv-spec.ts';

// Pure logic of `mlops-chaos upgrade`: nothing here builds a venv, asks PyPI or starts a stack.
// The requirement files and pip outputs below are FAKE, shaped like the real ones.

const fakeRequirements = 'mlflow==3.17.2\npsycopg2-binary==2.9.13\nboto3\nxgboost-cpu==3.2.0\n';
const fakeLock = 'alembic==1.20.1\nmlflow==3.17.2\nmlflow-skinny==3.17.2\nmlflow_tracing==3.17.2\npackaging==26.4\nboto3==1.44.8\n';

test.describe('upgrade arguments', () => {
  test('a valid command names the component, both versions and the scenarios', () => {
    const plan = parseUpgradeArgs(['mlflow', '3.4.0', '3.5.0', 'db-blackhole-training']);
    expect(plan, 'parsed plan').toEqual({ component: 'mlflow', from: '3.4.0', to: '3.5.0', names: ['db-blackhole-training'], cpuHog: false });
    expect(sideDirs(plan), 'one directory per side, named by version').toEqual({ from: 'from-3.4.0', to: 'to-3.5.0' });
  });

  test('without names a side runs the component\'s default scenarios', () => {
    const plan = parseUpgradeArgs(['kserve', '0.20.0', '0.21.0']);
    expect(scenariosFor(plan), 'default set').toEqual(COMPONENTS.kserve.defaultScenarios);
  });

  for (const [args, message] of [
    [['mlflow'], /needs COMPONENT, FROM and TO/],
    [['mlfow', '3.4.0', '3.5.0'], /unknown component 'mlfow'; one of: mlflow .*mlflow-client .*kserve .*kfp/],
    [['mlflow', 'latest', '3.5.0'], /'latest' is not a version/],
    [['kfp', '2.17.3', '2.17.3'], /FROM and TO are both 2.17.3/],
    [['mlflow', '3.4.0', '3.5.0', '--target', 'docker'], /local target only/],
    [['mlflow', '3.4.0', '3.5.0', '--repeat', '3'], /unknown option --repeat/],
  ] as const) {
    test(`refused before anything is built: ${args.join(' ')}`, () => {
      expect(() => parseUpgradeArgs([...args]), `upgrade ${args.join(' ')}`).toThrow(UpgradeUsageError);
      expect(() => parseUpgradeArgs([...args]), `upgrade ${args.join(' ')}`).toThrow(message);
    });
  }

  test('the CLI exits 2 on bad usage and says why', async () => {
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (errors.push(String(s)), true)) as typeof process.stderr.write;
    try {
      expect(await main(['upgrade', 'kserve', '0.21.0', '0.21.0']), 'exit code').toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(errors.join(''), 'message').toContain('FROM and TO are both 0.21.0');
  });
});

test.describe('a version\'s venv', () => {
  test('pins the component to the version and lets go of its family\'s lock pins only', () => {
    const spec = venvSpec('mlflow-client', '2.22.5', fakeRequirements, fakeLock);
    expect(spec.name, 'venv name').toBe('mlflow-client-2.22.5');
    expect(spec.requirements.split('\n')[0], 'pinned requirement').toBe('mlflow==2.22.5');
    expect(spec.requirements, 'other requirements untouched').toContain('psycopg2-binary==2.9.13\nboto3\nxgboost-cpu==3.2.0');
    expect(spec.dropped, 'lock pins left out').toEqual(['mlflow==3.17.2', 'mlflow-skinny==3.17.2', 'mlflow_tracing==3.17.2']);
    expect(spec.constraints, 'the rest of the lock constrains the install').toMatch(/^alembic==1\.20\.1\npackaging==26\.4\nboto3==1\.44\.8\nsqlalchemy<2\.1 {2}#/);
  });

  test('moves what ships in lockstep (kserve-storage with kserve)', () => {
    const spec = venvSpec('kserve', '0.20.0', 'kserve==0.21.0\nkserve-storage==0.21.0\nboto3\n', 'kserve==0.21.0\nkserve-storage==0.21.0\naiohttp==3.14.5\n');
    expect(spec.requirements, 'both pinned').toBe('kserve==0.20.0\nkserve-storage==0.20.0\nboto3\n');
    expect(spec.constraints, 'their lock pins gone').toBe('aiohttp==3.14.5\n');
  });

  test('its stamp changes with the version and with the lock', () => {
    const a = venvSpec('mlflow', '3.4.0', fakeRequirements, fakeLock).stamp;
    expect(venvSpec('mlflow', '3.5.0', fakeRequirements, fakeLock).stamp, 'another version').not.toBe(a);
    expect(venvSpec('mlflow', '3.4.0', fakeRequirements, `${fakeLock}six==1.17.0\n`).stamp, 'another lock').not.toBe(a);
    expect(venvSpec('mlflow', '3.4.0', fakeRequirements, fakeLock).stamp, 'the same inputs').toBe(a);
  });

  test('a requirements file that does not name the component is an error', () => {
    expect(() => venvSpec('kfp', '2.14.0', 'boto3\n', ''), 'no kfp line').toThrow(/does not name kfp/);
  });

  test('requirement names are compared in PEP 503 form', () => {
    expect(requirementName('Mlflow_Tracing==3.17.2'), 'normalized').toBe('mlflow-tracing');
    expect(requirementName('# comment'), 'comment').toBeNull();
    expect(requirementName('-c other.txt'), 'option').toBeNull();
  });

  test('the lock pins pip says contradict the version are the ones let go on retry', () => {
    const fakePipOutput = 'The conflict is caused by:\n    mlflow-skinny 2.22.5 depends on packaging<25\n    The user requested (constraint) packaging==26.4\n    The user requested (constraint) importlib_metadata==9.1.0\n';
    expect(conflictingConstraints(fakePipOutput), 'conflicting pins').toEqual(['packaging', 'importlib-metadata']);
    expect(conflictingConstraints('ERROR: No matching distribution found for mlflow==9.9.9'), 'not a conflict').toEqual([]);
    // kserve 0.17.1 after the lock's starlette pin was let go: the lock's fastapi pin is the cause now.
    const second = 'The conflict is caused by:\n    kserve 0.17.1 depends on starlette==0.49.1\n    fastapi 0.165.0 depends on starlette>=1.6.0\n';
    expect(conflictingConstraints(second, [], ['fastapi', 'uvicorn']), 'a pinned package pip blames').toEqual(['fastapi']);
    expect(conflictingConstraints(second, [], ['uvicorn']), 'an unpinned one is not dropped').toEqual([]);
  });
});

test.describe('a version that does not exist', () => {
  const fakeIndexOutput = 'mlflow (3.18.0)\nAvailable versions: 3.18.0, 3.17.2, 3.5.0, 3.4.0, 2.22.5, 2.22.4\n  INSTALLED: 3.17.2\n';

  test('the index\'s versions are read from pip\'s output', () => {
    expect(parseIndexVersions(fakeIndexOutput), 'versions').toEqual(['3.18.0', '3.17.2', '3.5.0', '3.4.0', '2.22.5', '2.22.4']);
    expect(parseIndexVersions('ERROR: No matching distribution found for nope'), 'none').toEqual([]);
  });

  test('the message names the component, the package, the version and the nearest ones', () => {
    const available = parseIndexVersions(fakeIndexOutput);
    expect(nearestVersions('3.6.0', available), 'two each side, ascending').toEqual(['3.4.0', '3.5.0', '3.17.2', '3.18.0']);
    expect(versionNotFoundMessage('mlflow-client', 'mlflow', '3.6.0', available), 'message').toBe('mlflow-client: mlflow 3.6.0 does not exist on the package index; nearest: 3.4.0, 3.5.0, 3.17.2, 3.18.0');
    expect(versionNotFoundMessage('kfp', 'kfp', '2.1.0', []), 'index unreachable').toMatch(/kfp: kfp 2.1.0 cannot be installed: the package index lists no versions/);
  });
});

test.describe('venv overrides on the stack', () => {
  test('a role without an override keeps set-up\'s venv', () => {
    expect(roleBin('kserve', 'python', undefined), 'default').toMatch(/\.venvs\/kserve\/bin\/python$/);
    expect(roleBin('mlflow-client', 'python', { 'mlflow-client': '/fake/venv' }), 'override').toBe('/fake/venv/bin/python');
    expect(roleBin('mlflow-server', 'mlflow', { 'mlflow-client': '/fake/venv' }), 'another role\'s override').toMatch(/\.venvs\/mlflow3\/bin\/mlflow$/);
    expect(overriddenVersions(undefined), 'nothing overridden').toEqual({});
  });

  test('the docker target refuses per-version venvs, the local one takes them', () => {
    expect(venvOverridesRefusal('docker'), 'docker').toMatch(/local only/);
    expect(venvOverridesRefusal('local'), 'local').toBeNull();
  });
});

test('the version set-up pins is read from requirements.txt, so its venv is reused', () => {
  expect(pinnedVersion(fakeRequirements, 'mlflow'), 'mlflow').toBe('3.17.2');
  expect(pinnedVersion(fakeRequirements, 'boto3'), 'unpinned').toBeNull();
  expect(pinnedVersion(fakeRequirements, 'kfp'), 'absent').toBeNull();
});

test('an older MLflow gets the bound its release needs in place of the lock\'s newer pin', () => {
  const old = venvSpec('mlflow', '3.4.0', fakeRequirements, 'SQLAlchemy==2.1.9\nalembic==1.20.1\n');
  expect(old.dropped, 'the lock\'s pin let go').toContain('SQLAlchemy==2.1.9');
  expect(old.constraints, 'the bound, with its cause').toMatch(/^sqlalchemy<2\.1 {2}# .*mlflow#20203/m);
  const fixed = venvSpec('mlflow', '3.11.1', fakeRequirements, 'SQLAlchemy==2.1.9\nalembic==1.20.1\n');
  expect(fixed.constraints, 'from the release that needs no bound on, the lock as it is').toBe('SQLAlchemy==2.1.9\nalembic==1.20.1\n');
});

test('a compat bound is kept and the lock pin that wants the other side of it goes', () => {
  const fakePipOutput = 'The conflict is caused by:\n    fastapi 0.165.0 depends on starlette>=1.6.0\n    The user requested (constraint) starlette<1\n';
  expect(conflictingConstraints(fakePipOutput, ['starlette']), 'dependents of the kept bound').toEqual(['fastapi']);
  expect(conflictingConstraints(fakePipOutput), 'without a kept bound').toEqual(['starlette']);
});
