import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { timeouts } from '../../timeouts.ts';
import { ToxiproxyClient } from '../../toxiproxy.ts';
import { pollUntil } from '../../util/poll.ts';
import { groupMembers, isAlive, signalGroup } from './proc.ts';
import { unmountUnder } from '../docker/sized-fs.ts';
import { listRecords, removeRecord, saveRecord, type FaultRecord, type StackRecord } from './registry.ts';

export interface Reaped {
  stackId: string;
  /** What the record held when it was not a stack (a run condition such as the CPU hog). */
  label?: string;
  processes: string[];
  faults: string[];
  dirs: string[];
  /** Containers, networks and volumes (docker target). */
  docker?: string[];
}

export const WORKDIR_PREFIX = 'mlops-chaos-';

/** Reverts faults recorded on a stack whose runner is gone; returns what it reverted. */
export async function revertRecordedFaults(rec: StackRecord): Promise<string[]> {
  const done: string[] = [];
  const toxiproxy = rec.toxiproxyApi ? new ToxiproxyClient(rec.toxiproxyApi) : undefined;
  for (const f of rec.faults) {
    await revertOne(f, toxiproxy);
    done.push(`${f.type} on ${f.target}`);
  }
  rec.faults = [];
  return done;
}

async function revertOne(f: FaultRecord, toxiproxy: ToxiproxyClient | undefined): Promise<void> {
  const r = f.revert;
  if (r.kind === 'remove-toxics') for (const t of r.toxics) await toxiproxy?.removeToxic(r.proxy, t);
  else if (r.kind === 'enable-proxy') await toxiproxy?.setEnabled(r.proxy, true);
  else if (r.kind === 'set-upstream') await toxiproxy?.setUpstream(r.proxy, r.upstream);
  else if (r.kind === 'sigcont') signalGroup(r.pid, r.startTime, 'SIGCONT');
  else if (r.kind === 'kill-group') signalGroup(r.pid, r.startTime, 'SIGKILL');
}

async function killRecorded(rec: StackRecord): Promise<string[]> {
  const killed: string[] = [];
  for (const p of rec.processes) {
    if (signalGroup(p.pid, p.startTime, 'SIGKILL') > 0) killed.push(`${p.name} (pid ${p.pid})`);
  }
  for (const p of rec.processes) {
    await pollUntil(`reaped ${p.name} (pid ${p.pid}) to exit`, timeouts.processStop, async () =>
      groupMembers(p.pid, p.startTime).length === 0 ? { done: true, value: undefined } : { done: false },
    );
  }
  return killed;
}

/** Only files a stack recorded, of the one kind it makes outside its work dir, are ever removed. */
export function removeStackFiles(files: readonly string[] = []): string[] {
  const ours = files.filter((f) => /^\/tmp\/seaweedfs-[a-z0-9]+-grpc-\d+\.sock$/.test(f));
  for (const f of ours) rmSync(f, { force: true });
  return ours;
}

/** Only directories this suite creates are ever removed. */
function removeWorkDir(dir: string): string[] {
  if (!dir.startsWith(`${tmpdir()}/${WORKDIR_PREFIX}`)) return [];
  // A docker stack's sized filesystems are mounted in its work dir: unmount before removing.
  const unmounted = unmountUnder(dir).map((m) => `${m} (unmounted)`);
  rmSync(dir, { recursive: true, force: true });
  return [...unmounted, dir];
}

/**
 * Finds stacks whose runner died (crash, SIGKILL, timeout) and removes everything they left:
 * faults, processes (by recorded pid and start time, never by name), work dirs.
 * Kept stacks (`stack up`) are left alone unless `includeKept`; live owners are never touched.
 */
export async function reapStale(opts: { includeKept?: boolean } = {}): Promise<Reaped[]> {
  const out: Reaped[] = [];
  for (const rec of listRecords()) {
    const ownerAlive = isAlive(rec.owner.pid, rec.owner.startTime);
    if (ownerAlive && !rec.kept) continue;
    if (rec.kept && !opts.includeKept) {
      if (rec.faults.length > 0) {
        const faults = await revertRecordedFaults(rec);
        saveRecord(rec);
        out.push({ stackId: rec.id, processes: [], faults, dirs: [] });
      }
      continue;
    }
    out.push(await reapRecord(rec));
  }
  return out;
}

export async function reapRecord(rec: StackRecord): Promise<Reaped> {
  const faults = rec.faults.map((f) => `${f.type} on ${f.target}`); // gone with the toxiproxy process
  const processes = await killRecorded(rec);
  const dirs = [...removeWorkDir(rec.workDir), ...removeStackFiles(rec.files)];
  removeRecord(rec.id);
  return { stackId: rec.id, ...(rec.label ? { label: rec.label } : {}), processes, faults, dirs };
}

export function describeReaped(r: Reaped): string {
  const parts = [
    r.processes.length ? `processes ${r.processes.join(', ')}` : '',
    r.faults.length ? `faults ${r.faults.join(', ')}` : '',
    r.dirs.length ? `dirs ${r.dirs.join(', ')}` : '',
    r.docker?.length ? `docker ${r.docker.join(', ')}` : '',
  ].filter(Boolean);
  return `reaped leftovers of ${r.label ? `${r.label} (record ${r.stackId})` : `stack ${r.stackId}`}: ${parts.join('; ') || 'its record only'}`;
}
