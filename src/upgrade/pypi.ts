import { venvBin } from '../paths.ts';
import { runToCompletion } from '../util/run-to-completion.ts';

/**
 * Whether a version exists, asked of PyPI once per package before anything is built or started,
 * through pip itself (`pip index versions`), so the index pip is configured with is the one asked.
 */

/** Thrown when a version is not on the index: the CLI prints it and exits 2, nothing started. */
export class VersionNotFound extends Error {}

/** `Available versions: 0.21.0, 0.20.0, …` from `pip index versions`' output. */
export function parseIndexVersions(output: string): string[] {
  const line = output.split('\n').find((l) => l.startsWith('Available versions:'));
  return line ? line.slice('Available versions:'.length).split(',').map((v) => v.trim()).filter(Boolean) : [];
}

/** Numeric release parts (`3.17.2` → [3, 17, 2]); a pre-release suffix sorts it just below its release. */
function versionKey(v: string): number[] {
  const m = /^(\d+(?:\.\d+)*)(.*)$/.exec(v);
  const nums = (m?.[1] ?? '0').split('.').map(Number);
  return m?.[2] ? [...nums, -1] : nums;
}

export function compareVersions(a: string, b: string): number {
  const [x, y] = [versionKey(a), versionKey(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** Up to `n` released versions on each side of `version`, nearest first, in ascending order. */
export function nearestVersions(version: string, available: string[], n = 2): string[] {
  const sorted = [...available].sort(compareVersions);
  const below = sorted.filter((v) => compareVersions(v, version) < 0).slice(-n);
  const above = sorted.filter((v) => compareVersions(v, version) > 0).slice(0, n);
  return [...below, ...above];
}

export function versionNotFoundMessage(component: string, pkg: string, version: string, available: string[]): string {
  if (available.length === 0) return `${component}: ${pkg} ${version} cannot be installed: the package index lists no versions of ${pkg} (is PyPI reachable?)`;
  const near = nearestVersions(version, available);
  return `${component}: ${pkg} ${version} does not exist on the package index; nearest: ${near.join(', ')}`;
}

/** Every version of `pkg` the index offers; throws when pip cannot ask it. */
export async function availableVersions(pkg: string): Promise<string[]> {
  const run = await runToCompletion(venvBin('mlflow3', 'pip'), ['index', 'versions', pkg, '--disable-pip-version-check'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    deadlineMs: 60_000,
    what: `the package index to list the versions of ${pkg}`,
  });
  if (run.code !== 0 && !/No matching distribution/.test(run.stderr)) throw new Error(`pip could not ask the package index for ${pkg} (exit ${run.code}): ${run.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  return parseIndexVersions(run.stdout);
}

/** Fails fast, naming the component and version, when any of `pkgs` lacks `version`. */
export async function requireVersion(component: string, pkgs: string[], version: string): Promise<void> {
  for (const pkg of pkgs) {
    const available = await availableVersions(pkg);
    if (!available.includes(version)) throw new VersionNotFound(versionNotFoundMessage(component, pkg, version, available));
  }
}
