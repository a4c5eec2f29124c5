import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from '../../paths.ts';
import { procInfo } from './proc.ts';

/** One process a stack started, identified beyond pid reuse by its start time. */
export interface ProcessRecord {
  name: string;
  pid: number;
  startTime: number;
}

/** A fault that is active; persisted so a crashed run's faults are reverted at the next start. */
export interface FaultRecord {
  id: string;
  type: string;
  target: string;
  injectedAt: string;
  /** What reverting needs without the live handle: a toxic to remove, a proxy to enable, a pid to SIGCONT. */
  revert: { kind: 'remove-toxics'; proxy: string; toxics: string[] } | { kind: 'enable-proxy'; proxy: string } | { kind: 'set-upstream'; proxy: string; upstream: string } | { kind: 'sigcont'; pid: number; startTime: number } | { kind: 'kill-group'; pid: number; startTime: number } | { kind: 'none' };
}

/** The on-disk record of one running stack; the reaper reads these. */
export interface StackRecord {
  id: string;
  owner: { pid: number; startTime: number };
  /** Kept by `stack up`: survives its owner and is stopped only by `stack down`. */
  kept: boolean;
  workDir: string;
  createdAt: string;
  toxiproxyApi?: string;
  endpoints?: Record<string, string>;
  processes: ProcessRecord[];
  /** Files its processes make outside the work dir (SeaweedFS's gRPC sockets): removed with it. */
  files?: string[];
  faults: FaultRecord[];
  /** Set when the record holds no stack but a run condition's process (the CPU hog): what the reaper says it reaped. */
  label?: string;
}

const stacksDir = join(stateDir, 'stacks');

export function recordPath(id: string): string {
  return join(stacksDir, `${id}.json`);
}

export function ownerIdentity(): { pid: number; startTime: number } {
  const info = procInfo(process.pid);
  return { pid: process.pid, startTime: info?.startTime ?? 0 };
}

/** Writes atomically so a crash mid-write never leaves a half record for the reaper. */
export function saveRecord(rec: StackRecord): void {
  mkdirSync(stacksDir, { recursive: true });
  const tmp = `${recordPath(rec.id)}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(rec, null, 2));
  renameSync(tmp, recordPath(rec.id));
}

export function removeRecord(id: string): void {
  rmSync(recordPath(id), { force: true });
}

export function listRecords(): StackRecord[] {
  let files: string[];
  try {
    files = readdirSync(stacksDir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const out: StackRecord[] = [];
  for (const f of files) {
    try {
      out.push(JSON.parse(readFileSync(join(stacksDir, f), 'utf8')) as StackRecord);
    } catch {
      // A record that cannot be parsed holds nothing the reaper could act on: drop it.
      rmSync(join(stacksDir, f), { force: true });
    }
  }
  return out;
}
