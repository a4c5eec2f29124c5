import { readdirSync, readFileSync } from 'node:fs';

/** What /proc says of one process: enough to tell "our" process from a reused pid. */
export interface ProcInfo {
  pid: number;
  state: string;
  pgid: number;
  /** Clock ticks since boot; with the pid it identifies one process for its whole life. */
  startTime: number;
}

export function procInfo(pid: number): ProcInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = rest[0] ?? '?';
  const pgid = Number(rest[2]);
  const startTime = Number(rest[19]);
  return { pid, state, pgid, startTime };
}

/** A `pid:startTime` owner record (a runner's, on a container or cluster) names a live process. */
export function ownerAlive(owner: string): boolean {
  const [pid, start] = owner.split(':').map(Number);
  return pid !== undefined && start !== undefined && Number.isFinite(pid) && isAlive(pid, start);
}

/** Alive = exists, is not a zombie, and is the same process (same start time) as recorded. */
export function isAlive(pid: number, startTime: number): boolean {
  const info = procInfo(pid);
  return info !== undefined && info.state !== 'Z' && info.startTime === startTime;
}

/**
 * Live members of the process group led by `pgid`, started no earlier than the leader was.
 * A group outlives its leader (uvicorn workers after the master died), so members are found by pgid.
 */
export function groupMembers(pgid: number, leaderStartTime: number): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = procInfo(Number(entry));
    if (info && info.pgid === pgid && info.state !== 'Z' && info.startTime >= leaderStartTime) out.push(info);
  }
  return out;
}

/** Signals every member of a group we started; returns how many were signalled. */
export function signalGroup(pgid: number, leaderStartTime: number, signal: NodeJS.Signals): number {
  const members = groupMembers(pgid, leaderStartTime);
  for (const m of members) {
    try {
      process.kill(m.pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
  return members.length;
}
