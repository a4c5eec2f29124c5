import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { timeouts } from '../../timeouts.ts';
import { pollUntil } from '../../util/poll.ts';
import { redact } from '../../util/redact.ts';
import { groupMembers, procInfo, signalGroup } from './proc.ts';
import type { ProcessRecord } from './registry.ts';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Run as this user (PostgreSQL refuses to run as root). */
  user?: { uid: number; gid: number };
  logFile: string;
  /** Graceful stop signal for the group (PostgreSQL: SIGINT = fast shutdown; SIGTERM would wait for clients). */
  stopSignal?: NodeJS.Signals;
}

export type { Watched } from '../../util/wait-http.ts';

export class ProcessExited extends Error {
  constructor(
    readonly processName: string,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    logTail: string,
  ) {
    super(`${processName} exited (${signal ? `signal ${signal}` : `code ${code}`}); last log lines:\n${logTail}`);
    this.name = 'ProcessExited';
  }
}

/**
 * A process the suite started, in its own process group (so its children go with it), its
 * output appended to a log file. Only this object's pid group is ever signalled.
 */
export class ManagedProcess {
  readonly pid: number;
  readonly startTime: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(
    readonly spec: ProcessSpec,
    private readonly child: ChildProcess,
  ) {
    if (child.pid === undefined) throw new Error(`${spec.name}: spawn gave no pid (${spec.command})`);
    this.pid = child.pid;
    this.startTime = procInfo(child.pid)?.startTime ?? 0;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  static start(spec: ProcessSpec): ManagedProcess {
    const fd = openSync(spec.logFile, 'a');
    try {
      const child = spawn(spec.command, spec.args, {
        cwd: spec.cwd,
        env: spec.env as NodeJS.ProcessEnv | undefined,
        detached: true, // own process group: stop() reaches the children, Ctrl-C to the runner does not
        stdio: ['ignore', fd, fd],
        uid: spec.user?.uid,
        gid: spec.user?.gid,
      });
      child.once('error', () => undefined); // surfaced through `exited`
      return new ManagedProcess(spec, child);
    } finally {
      closeSync(fd);
    }
  }

  get name(): string {
    return this.spec.name;
  }

  get record(): ProcessRecord {
    return { name: this.name, pid: this.pid, startTime: this.startTime };
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** A promise that rejects when the process exits: pass as `abort` to pollUntil while waiting for readiness. */
  failOnExit(): Promise<never> {
    return this.exited.then(({ code, signal }) => {
      throw new ProcessExited(this.name, code, signal, this.logTail());
    });
  }

  logTail(lines = 20): string {
    try {
      return redact(readFileSync(this.spec.logFile, 'utf8').split('\n').slice(-lines - 1).join('\n'));
    } catch {
      return '(no log)';
    }
  }

  signal(sig: NodeJS.Signals): void {
    signalGroup(this.pid, this.startTime, sig);
  }

  /** The stop signal to the group, wait for every member to go, then SIGKILL what is left. Idempotent. */
  async stop(): Promise<void> {
    if (groupMembers(this.pid, this.startTime).length === 0) return;
    this.signal('SIGCONT'); // a paused process cannot act on SIGTERM
    const graceful = this.spec.stopSignal ?? 'SIGTERM';
    this.signal(graceful);
    try {
      await pollUntil(`${this.name} (pid ${this.pid}) to exit after ${graceful}`, timeouts.processStop, async () =>
        groupMembers(this.pid, this.startTime).length === 0 ? { done: true, value: undefined } : { done: false },
      );
    } catch {
      this.signal('SIGKILL');
      await pollUntil(`${this.name} (pid ${this.pid}) to exit after SIGKILL`, timeouts.processStop, async () =>
        groupMembers(this.pid, this.startTime).length === 0 ? { done: true, value: undefined } : { done: false },
      );
    }
  }
}
