import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from '../paths.ts';
import { timeouts } from '../timeouts.ts';
import { checkClusterName } from './guard.ts';
import type { KindToolchain } from './toolchain.ts';

/**
 * The kind CLI and the records of the clusters this suite created (`.state/kind/<name>.json`),
 * without the Kubernetes client: the reaper runs before every run and needs only these.
 */
export const clustersDir = join(stateDir, 'kind');

export interface ClusterRecord {
  name: string;
  /** `pid:startTime` of the runner that created it. */
  owner: string;
  kept: boolean;
  createdAt: string;
}

export function recordPath(name: string): string {
  return join(clustersDir, `${name}.json`);
}

export function readRecord(name: string): ClusterRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordPath(name), 'utf8')) as ClusterRecord;
  } catch {
    return undefined;
  }
}

/** Runs the kind CLI with a deadline; its output is returned, or thrown with the command. */
export function runKind(tool: KindToolchain, args: string[], deadlineMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(tool.kind, args, { timeout: deadlineMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kind ${args.join(' ')} failed${err.killed ? ` (no answer within ${deadlineMs} ms)` : ''}: ${`${stderr}${stdout}`.trim().slice(-1500)}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

/** Deletes the cluster's node containers and its record and files. */
export async function deleteCluster(tool: KindToolchain | undefined, name: string): Promise<void> {
  const bad = checkClusterName(name);
  if (bad) throw new Error(`refusing to delete: ${bad}`);
  const dir = join(clustersDir, name);
  if (tool) await runKind(tool, ['delete', 'cluster', '--name', name, '--kubeconfig', join(dir, 'kubeconfig')], timeouts.kindCommand);
  rmSync(dir, { recursive: true, force: true });
  rmSync(recordPath(name), { force: true });
}
