/**
 * Builds the component images (all, or the named ones), reusing every image whose inputs did
 * not change, then prints each ref and size.
 *   npm run images [-- COMPONENT...] [--images built|upstream]
 * `kind` names the kind node image (images/kind/build-node.sh: Kubernetes from the Go module
 * proxy, a debootstrapped node) and, with it, every component image the cluster's workloads use.
 * `--images upstream` prints the upstream images that would be pulled instead; this machine
 * pulls nothing, so it fails unless they are all present already (e.g. from `docker load`).
 */
import { spawnSync } from 'node:child_process';
import { ensureImages, imageExists, imageRef, IMAGE_COMPONENTS, isImageComponent, upstreamImages, type ImageComponent, type ImageSource } from '../src/images/catalog.ts';

const usage = `usage: npm run images [-- COMPONENT...] [--images built|upstream]   (components: ${IMAGE_COMPONENTS.join(', ')}, kind)`;

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

let source: ImageSource = 'built';
const names: string[] = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === '--images' || a.startsWith('--images=')) {
    const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
    if (v !== 'built' && v !== 'upstream') fail(`images: --images takes 'built' or 'upstream', not '${v ?? ''}'\n${usage}`, 2);
    source = v;
  } else if (a === '-h' || a === '--help') {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  } else if (a.startsWith('-')) {
    fail(`images: unknown option '${a}'\n${usage}`, 2);
  } else {
    names.push(a);
  }
}
const bad = names.filter((n) => !isImageComponent(n) && n !== 'kind');
if (bad.length) fail(`images: unknown component${bad.length > 1 ? 's' : ''} ${bad.map((b) => `'${b}'`).join(', ')} (allowed: ${IMAGE_COMPONENTS.join(', ')}, kind)`, 2);
const wantsKind = names.includes('kind');
const named = names.filter(isImageComponent);
const components: readonly ImageComponent[] = named.length ? named : IMAGE_COMPONENTS;

if (wantsKind) {
  if (source === 'upstream') fail('images: --images upstream has no kind node image to name yet (kindest/node cannot be pulled here either): build it with `npm run images -- kind`', 2);
  // Its own progress lines (one per step, with its time) go straight to the terminal.
  const r = spawnSync('bash', ['images/kind/build-node.sh'], { stdio: 'inherit' });
  if (r.status !== 0) fail(`images: the kind node image failed to build (exit ${r.status ?? r.signal}); logs in .tools/logs/kind-*`, 1);
}

if (source === 'upstream') {
  const upstream = upstreamImages();
  const missing: string[] = [];
  for (const c of components) {
    const ref = imageRef(c, 'upstream');
    const present = await imageExists(ref);
    if (!present) missing.push(ref);
    process.stdout.write(`${c.padEnd(16)} ${ref.padEnd(36)} ${present ? 'present' : 'would be pulled'}  ${upstream[c].note}\n`);
  }
  if (missing.length) {
    fail(`images: --images upstream needs ${missing.join(', ')} pulled, and no registry is reachable from this machine: \`docker load\` them, or use the built images (npm run images)`, 1);
  }
  process.exit(0);
}

const t0 = Date.now();
let refs: Partial<Record<ImageComponent, string>>;
try {
  refs = await ensureImages(components);
} catch (e) {
  fail((e as Error).message, 1);
}
if (wantsKind) {
  // KServe's controller and storage initializer for the cluster; the initializer is made from the kserve image.
  const kserveRef = refs.kserve ?? (await ensureImages(['kserve'])).kserve!;
  const r = spawnSync('bash', ['images/kind/build-kserve-images.sh', kserveRef], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) fail(`images: the KServe images for kind failed to build: ${r.stderr.trim().split('\n').slice(-10).join('\n')}`, 1);
  // metrics-server, for the scenarios that put a component under an autoscaler.
  const m = spawnSync('bash', ['images/kind/build-metrics-server-image.sh'], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (m.status !== 0) fail(`images: the metrics-server image for kind failed to build: ${m.stderr.trim().split('\n').slice(-10).join('\n')}`, 1);
  // kube-network-policies, for the scenarios that cut a link with a NetworkPolicy.
  const n = spawnSync('bash', ['images/kind/build-network-policies-image.sh'], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (n.status !== 0) fail(`images: the kube-network-policies image for kind failed to build: ${n.stderr.trim().split('\n').slice(-10).join('\n')}`, 1);
}
const seconds = ((Date.now() - t0) / 1000).toFixed(1);
for (const c of components) {
  const ref = refs[c]!;
  const size = spawnSync('docker', ['image', 'inspect', '--format', '{{.Size}}', ref], { encoding: 'utf8' }).stdout.trim();
  process.stdout.write(`${c.padEnd(16)} ${ref.padEnd(56)} ${(Number(size) / 1e6).toFixed(0).padStart(6)} MB\n`);
}
process.stdout.write(`images: ${components.length} ready in ${seconds}s\n`);
