import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tool } from '../paths.ts';
import { timeouts } from '../timeouts.ts';
import { procInfo, signalGroup } from '../targets/local/proc.ts';
import { pollUntil } from '../util/poll.ts';
import { runToCompletion } from '../util/run-to-completion.ts';
import type { Injected } from './types.ts';

/** Hard bound on any attack, whatever the scenario asks. */
export const MAX_ATTACK_S = 300;
/** vegeta gives up on a request after this. */
const REQUEST_TIMEOUT_S = 30;

export interface Attack {
  method: 'GET' | 'POST';
  url: string;
  body?: string;
  /** Requests per second (open model), or `max` with a fixed number of workers (closed model). */
  rate: number | { max: true; workers: number };
  durationS: number;
  /** Most requests in flight at once for an open-model attack (default 512). */
  maxWorkers?: number;
  /** False: a new connection for every request (vegeta's `-keepalive=false`); default: kept alive. */
  keepAlive?: boolean;
}

/** What `vegeta report -type=json` says of an attack (latencies in ns). */
export interface AttackReport {
  success: number;
  latencies: { '50th': number; '99th': number };
  throughput: number;
  status_codes: Record<string, number>;
}

function targetsFile(dir: string, a: Attack): string {
  const target = { method: a.method, url: a.url, ...(a.body !== undefined ? { body: Buffer.from(a.body).toString('base64') } : {}), header: { 'Content-Type': ['application/json'] } };
  writeFileSync(join(dir, 'targets.json'), `${JSON.stringify(target)}\n`);
  return join(dir, 'targets.json');
}

function paceArgs(a: Attack): string[] {
  const pace = typeof a.rate === 'number' ? [`-rate=${a.rate}/s`, `-max-workers=${a.maxWorkers ?? 512}`] : ['-rate=0', `-workers=${a.rate.workers}`, `-max-workers=${a.rate.workers}`];
  return a.keepAlive === false ? [...pace, '-keepalive=false'] : pace;
}

/**
 * Runs a whole attack and returns vegeta's report, without blocking the event loop (probes keep
 * running meanwhile). Bounded by its duration plus the request timeout.
 */
export async function attackAndReport(a: Attack): Promise<AttackReport> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-chaos-vegeta-'));
  try {
    const results = join(dir, 'results.bin');
    const durationS = Math.min(a.durationS, MAX_ATTACK_S);
    const deadlineMs = (durationS + REQUEST_TIMEOUT_S + 10) * 1000;
    const run = await runToCompletion(tool('vegeta'), ['attack', '-format=json', `-targets=${targetsFile(dir, a)}`, ...paceArgs(a), `-duration=${durationS}s`, `-timeout=${REQUEST_TIMEOUT_S}s`, `-output=${results}`], { env: process.env, deadlineMs, what: `vegeta attack at ${JSON.stringify(a.rate)} for ${durationS}s` });
    if (run.code !== 0) throw new Error(`vegeta attack failed (exit ${run.code}): ${run.stderr.trim().slice(-300)}`);
    const rep = await runToCompletion(tool('vegeta'), ['report', '-type=json', results], { env: process.env, deadlineMs: timeouts.httpRequest * 2, what: 'vegeta report' });
    return JSON.parse(rep.stdout) as AttackReport;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Starts vegeta against one target; it stops by itself after `durationS`, and `undo` stops it
 * sooner. Resolves once the first results are written (the load is on).
 */
export async function startAttack(a: Attack): Promise<Pick<Injected, 'undo' | 'persisted'>> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-chaos-vegeta-'));
  const results = join(dir, 'results.bin');
  const child = spawn(
    tool('vegeta'),
    ['attack', '-format=json', `-targets=${targetsFile(dir, a)}`, ...paceArgs(a), `-duration=${Math.min(a.durationS, MAX_ATTACK_S)}s`, `-timeout=${REQUEST_TIMEOUT_S}s`, `-output=${results}`],
    { detached: true, stdio: 'ignore' },
  );
  const startTime = procInfo(child.pid ?? -1)?.startTime ?? 0;
  const undo = async () => {
    if (child.exitCode === null && child.pid) {
      const gone = new Promise((r) => child.once('exit', r));
      signalGroup(child.pid, startTime, 'SIGKILL');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // vegeta writes a result per finished request: a growing file proves the load is on.
    await pollUntil('vegeta to record its first results', timeouts.httpRequest * 3, async () => (existsSync(results) && statSync(results).size > 0 ? { done: true, value: undefined } : { done: false }));
  } catch (err) {
    await undo();
    throw err;
  }
  return { undo, persisted: { kind: 'kill-group', pid: child.pid ?? -1, startTime } };
}
