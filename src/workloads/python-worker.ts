import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { timeouts } from '../timeouts.ts';
import { DeadlineExceeded } from '../util/poll.ts';
import { signalGroup, procInfo } from '../targets/local/proc.ts';

export interface WorkerError {
  type: string;
  message: string;
  status: number | null;
  error_code: string | null;
}

export type WorkerReply<T> = { ok: true; result: T; ms: number } | { ok: false; error: WorkerError; ms: number };

interface Pending {
  resolve: (r: WorkerReply<unknown>) => void;
  reject: (e: Error) => void;
}

/**
 * A Python process answering JSON-line requests (workloads/mlflow3/mlflow_client.py).
 * One request at a time is typical; ids keep replies matched anyway. The process runs in
 * its own group so killing it (a crashed-client scenario) takes nothing else with it.
 */
export class PythonWorker implements AsyncDisposable {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited = false;
  private readonly log: WriteStream;
  readonly startTime: number;

  constructor(
    readonly name: string,
    python: string,
    script: string,
    env: Record<string, string | undefined>,
    logFile: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
    this.child = spawn(python, ['-u', script], { env: env as NodeJS.ProcessEnv, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.startTime = procInfo(this.child.pid ?? -1)?.startTime ?? 0;
    this.child.stderr.pipe(this.log, { end: false });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.onLine(line));
    this.child.once('exit', (code, signal) => {
      this.exited = true;
      const err = new Error(`${this.name} worker exited (${signal ?? code}) with requests pending`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return !this.exited;
  }

  private onLine(line: string): void {
    if (!line.startsWith('{"id"')) {
      this.log.write(`${line}\n`);
      return;
    }
    const msg = JSON.parse(line) as { id: number } & WorkerReply<unknown>;
    const p = this.pending.get(msg.id);
    if (!p) return; // a reply after its caller gave up (deadline): nothing waits for it
    this.pending.delete(msg.id);
    p.resolve(msg);
  }

  /** Sends one op; rejects with DeadlineExceeded if no reply arrives within `deadlineMs`. */
  call<T>(op: string, args: Record<string, unknown>, deadlineMs: number): Promise<WorkerReply<T>> {
    if (this.exited) return Promise.reject(new Error(`${this.name} worker is not running`));
    const id = this.nextId++;
    return new Promise<WorkerReply<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new DeadlineExceeded(`${this.name}: reply to ${op}`, deadlineMs));
      }, deadlineMs);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r as WorkerReply<T>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.stdin.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  }

  /** Like `call`, but a failed op throws with the platform's message. */
  async ok<T>(op: string, args: Record<string, unknown>, deadlineMs: number): Promise<T> {
    const reply = await this.call<T>(op, args, deadlineMs);
    if (!reply.ok) throw new Error(`${this.name}: ${op} failed: ${reply.error.type} (status ${reply.error.status}): ${reply.error.message}`);
    return reply.result;
  }

  /** SIGKILL, as a crashed client. */
  kill(): void {
    if (!this.exited) signalGroup(this.pid, this.startTime, 'SIGKILL');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.exited) {
      this.child.stdin.end();
      const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
      const timer = setTimeout(() => this.kill(), timeouts.workerExit);
      await gone;
      clearTimeout(timer);
    }
    await new Promise<void>((r) => this.log.end(() => r()));
  }
}
