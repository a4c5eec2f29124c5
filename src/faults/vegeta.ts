import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tool } from '../paths.ts';
import { timeouts } from '../timeouts.ts';
import { procInfo, signalGroup } from '../targets/local/proc.ts';
import { pollUntil } from '../util/poll.ts';
import type { Injected } from './types.ts';

/** Hard bound on any attack, whatever the scenario asks. */
export const MAX_ATTACK_S = 300;

export interface Attack {
  method: 'GET' | 'POST';
  url: string;
  body?: string;
  /** Requests per second (open model), or `max` with a fixed number of workers (closed model). */
  rate: number | { max: true; workers: number };
  durationS: number;
}

/**
 * Starts vegeta against one target; it stops by itself after `durationS`, and `undo` stops it
 * sooner. Resolves once the first results are written (the load is on).
 */
export async function startAttack(a: Attack): Promise<Pick<Injected, 'undo' | 'persisted'>> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-chaos-vegeta-'));
  const target = { method: a.method, url: a.url, ...(a.body !== undefined ? { body: Buffer.from(a.body).toString('base64') } : {}), header: { 'Content-Type': ['application/json'] } };
  writeFileSync(join(dir, 'targets.json'), `${JSON.stringify(target)}\n`);
  const pace = typeof a.rate === 'number' ? [`-rate=${a.rate}/s`, '-max-workers=512'] : ['-rate=0', `-workers=${a.rate.workers}`, `-max-workers=${a.rate.workers}`];
  const results = join(dir, 'results.bin');
  const child = spawn(
    tool('vegeta'),
    ['attack', '-format=json', `-targets=${join(dir, 'targets.json')}`, ...pace, `-duration=${Math.min(a.durationS, MAX_ATTACK_S)}s`, '-timeout=30s', `-output=${results}`],
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
