import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { homedir } from 'node:os';

/** Locations inside the checkout; tools and venvs are installed by scripts/setup. */
export const repoRoot = dirname(dirname(fileURLToPath(import.meta.url)));
export const toolsBin = join(repoRoot, '.tools', 'bin');
export const stateDir = process.env.MLOPS_CHAOS_STATE_DIR ?? join(repoRoot, '.state');
export const reportsDir = join(repoRoot, 'reports');
/** What images/kind/ builds (binaries, image refs), kept per machine so a fresh clone finds it; the scripts use the same default. */
export const kindCacheDir = process.env.MLOPS_CHAOS_KIND_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'mlops-chaos', 'kind');
export const workloadsDir = join(repoRoot, 'workloads');

export type Venv = 'mlflow3' | 'mlflow2' | 'kserve' | 'kfp';
export const venvBin = (venv: Venv, exe: string): string => join(repoRoot, '.venvs', venv, 'bin', exe);
export const tool = (name: 'toxiproxy-server' | 'weed' | 'vegeta'): string => join(toolsBin, name);
