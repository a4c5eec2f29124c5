import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kindCacheDir } from '../paths.ts';

/**
 * What images/kind/build-binaries.sh and build-node.sh left in the kind cache: the kind CLI, the
 * pinned versions and the node image. Missing pieces are named with the command that makes them.
 */
export interface KindToolchain {
  kind: string;
  kindVersion: string;
  kubernetesVersion: string;
  nodeImage: string;
}

export const BUILD_COMMAND = 'npm run images -- kind';

/** KEY=value lines, as the build scripts write them. */
export function readEnv(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** The toolchain, or why there is none: a sentence ending in the command that builds it. */
export function kindToolchain(): KindToolchain | { missing: string } {
  const envFile = join(kindCacheDir, 'versions.env');
  const refFile = join(kindCacheDir, 'node-image');
  if (!existsSync(envFile) || !existsSync(refFile)) return { missing: `the kind node image is not built on this machine (no ${join(kindCacheDir, existsSync(envFile) ? 'node-image' : 'versions.env')}): run '${BUILD_COMMAND}'` };
  const env = readEnv(envFile);
  const kind = join(env.KIND_DIR ?? '', 'bin', 'kind');
  if (!env.KIND_DIR || !existsSync(kind)) return { missing: `the kind CLI is missing from ${kindCacheDir}: run '${BUILD_COMMAND}'` };
  return { kind, kindVersion: env.KIND_VERSION ?? '?', kubernetesVersion: env.KUBERNETES_VERSION ?? '?', nodeImage: readFileSync(refFile, 'utf8').trim() };
}
