import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { DeadlineExceeded } from './poll.ts';
import { redact } from './redact.ts';
import { procInfo, signalGroup } from '../targets/local/proc.ts';

export interface CompletedRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs a program (a Python script, a Node CLI) to completion in its own process group, with a
 * deadline after which the whole group is killed and DeadlineExceeded names what was awaited.
 * Output is appended, redacted, to `logFile` when given.
 */
export function runToCompletion(
  command: string,
  args: string[],
  opts: {
    env: Record<string, string | undefined>; deadlineMs: number; what: string; logFile?: string; cwd?: string;
    /** Aborted: the group is killed at once and the promise rejects with the signal's reason. */
    signal?: AbortSignal;
  },
): Promise<CompletedRun> {
  const started = Date.now();
  if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: opts.env as NodeJS.ProcessEnv, cwd: opts.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const startTime = procInfo(child.pid ?? -1)?.startTime ?? 0;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (child.pid) signalGroup(child.pid, startTime, 'SIGKILL');
      reject(new DeadlineExceeded(opts.what, Date.now() - started, stderr.trim().split('\n').slice(-3).join(' | ')));
    }, opts.deadlineMs);
    const onAbort = () => {
      clearTimeout(timer);
      if (child.pid) signalGroup(child.pid, startTime, 'SIGKILL');
      reject(opts.signal!.reason);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (opts.logFile) appendFileSync(opts.logFile, redact(`$ ${args.join(' ')}\n${stdout}${stderr}\n[exit ${code}]\n`));
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** The last line of stdout that parses as a JSON object. */
export function lastJsonLine<T>(stdout: string): T | undefined {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      return JSON.parse(line) as T;
    } catch {
      continue;
    }
  }
  return undefined;
}
