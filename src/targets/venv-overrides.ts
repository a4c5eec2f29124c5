import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { venvBin, type Venv } from '../paths.ts';

/**
 * Which Python environment plays each versioned role of a stack. An upgrade run starts two
 * otherwise identical stacks that differ only here, so a verdict that moves is the version's doing.
 */
export const VENV_ROLES = ['mlflow-server', 'mlflow-client', 'kserve', 'kfp'] as const;
export type VenvRole = (typeof VENV_ROLES)[number];

/** Role → a venv directory (absolute) that replaces set-up's venv for that role. */
export type VenvOverrides = Readonly<Partial<Record<VenvRole, string>>>;

/** Set-up's venv each role uses when nothing overrides it. */
export const DEFAULT_VENV: Record<VenvRole, Venv> = { 'mlflow-server': 'mlflow3', 'mlflow-client': 'mlflow3', kserve: 'kserve', kfp: 'kfp' };

/** An executable of the venv that plays `role`: the override's, or set-up's. */
export function roleBin(role: VenvRole, exe: string, overrides: VenvOverrides | undefined): string {
  const dir = overrides?.[role];
  return dir ? join(dir, 'bin', exe) : venvBin(DEFAULT_VENV[role], exe);
}

/** A package's version as installed in a venv directory, from its dist-info; 'unknown' if absent. */
export function installedVersion(venvDir: string, pkg: string): string {
  const lib = join(venvDir, 'lib');
  const norm = pkg.toLowerCase().replace(/[-.]/g, '_');
  for (const py of existsSync(lib) ? readdirSync(lib) : []) {
    const dist = readdirSync(join(lib, py, 'site-packages')).find((d) => d.toLowerCase().startsWith(`${norm}-`) && d.endsWith('.dist-info'));
    if (dist) return dist.slice(norm.length + 1, -'.dist-info'.length);
  }
  return 'unknown';
}

/** The package each role's version is read from, and the key it is reported under in `versions`. */
const ROLE_PACKAGE: Record<VenvRole, { key: string; pkg: string }> = {
  'mlflow-server': { key: 'mlflow', pkg: 'mlflow' },
  'mlflow-client': { key: 'mlflow-client', pkg: 'mlflow' },
  kserve: { key: 'kserve', pkg: 'kserve' },
  kfp: { key: 'kfp', pkg: 'kfp' },
};

/** `versions` entries for the overridden roles, read from their venvs (what actually got installed). */
export function overriddenVersions(overrides: VenvOverrides | undefined): Record<string, string> {
  return Object.fromEntries(VENV_ROLES.flatMap((r) => (overrides?.[r] ? [[ROLE_PACKAGE[r].key, installedVersion(overrides[r]!, ROLE_PACKAGE[r].pkg)]] : [])));
}
