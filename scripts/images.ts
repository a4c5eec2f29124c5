/**
 * Builds the component images (all, or the named ones), reusing every image whose inputs did
 * not change, then prints each ref and size.
 *   npm run images [-- COMPONENT...] [--images built|upstream]
 * `--images upstream` prints the upstream images that would be pulled instead; this machine
 * pulls nothing, so it fails unless they are all present already (e.g. from `docker load`).
 */
import { spawnSync } from 'node:child_process';
import { ensureImages, imageExists, imageRef, IMAGE_COMPONENTS, isImageComponent, upstreamImages, type ImageComponent, type ImageSource } from '../src/images/catalog.ts';

const usage = `usage: npm run images [-- COMPONENT...] [--images built|upstream]   (components: ${IMAGE_COMPONENTS.join(', ')})`;

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
const bad = names.filter((n) => !isImageComponent(n));
if (bad.length) fail(`images: unknown component${bad.length > 1 ? 's' : ''} ${bad.map((b) => `'${b}'`).join(', ')} (allowed: ${IMAGE_COMPONENTS.join(', ')})`, 2);
const components: readonly ImageComponent[] = names.length ? (names as ImageComponent[]) : IMAGE_COMPONENTS;

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
const seconds = ((Date.now() - t0) / 1000).toFixed(1);
for (const c of components) {
  const ref = refs[c]!;
  const size = spawnSync('docker', ['image', 'inspect', '--format', '{{.Size}}', ref], { encoding: 'utf8' }).stdout.trim();
  process.stdout.write(`${c.padEnd(16)} ${ref.padEnd(56)} ${(Number(size) / 1e6).toFixed(0).padStart(6)} MB\n`);
}
process.stdout.write(`images: ${components.length} ready in ${seconds}s\n`);
