import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** Locations inside the checkout; tools and venvs are installed by scripts/setup. */
export const repoRoot = dirname(dirname(fileURLToPath(import.meta.url)));
export const toolsBin = join(repoRoot, '.tools', 'bin');
export const stateDir = process.env.MLOPS_CHAOS_STATE_DIR ?? join(repoRoot, '.state');
export const reportsDir = join(repoRoot, 'reports');
export const workloadsDir = join(repoRoot, 'workloads');

export type Venv = 'mlflow3' | 'mlflow2' | 'kserve' | 'kfp';
export const venvBin = (venv: Venv, exe: string): string => join(repoRoot, '.venvs', venv, 'bin', exe);
export const tool = (name: 'toxiproxy-server' | 'weed' | 'vegeta'): string => join(toolsBin, name);
