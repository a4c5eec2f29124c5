import { setTimeout as delay } from 'node:timers/promises';
import { timeouts } from '../timeouts.ts';

export class DeadlineExceeded extends Error {
  constructor(
    readonly what: string,
    readonly waitedMs: number,
    readonly lastObservation?: string,
  ) {
    super(`timed out after ${waitedMs} ms waiting for ${what}${lastObservation ? ` (last seen: ${lastObservation})` : ''}`);
    this.name = 'DeadlineExceeded';
  }
}

/** One observation of the polled state: `done` ends the wait with `value`; `note` explains a miss. */
export type Observation<T> = { done: true; value: T } | { done: false; note?: string };

/**
 * Polls `observe` until it reports done, or fails after `deadlineMs` naming `what` it waited for.
 * An `abort` promise that settles first (a crashed process, say) ends the wait with its error.
 */
export async function pollUntil<T>(
  what: string,
  deadlineMs: number,
  observe: () => Promise<Observation<T>>,
  opts: { intervalMs?: number; abort?: Promise<never> } = {},
): Promise<T> {
  const started = Date.now();
  let last: string | undefined;
  const abort = opts.abort;
  abort?.catch(() => undefined);
  for (;;) {
    const attempt = observe();
    const obs = abort ? await Promise.race([attempt, abort]) : await attempt;
    if (obs.done) return obs.value;
    last = obs.note ?? last;
    const waited = Date.now() - started;
    if (waited >= deadlineMs) throw new DeadlineExceeded(what, waited, last);
    const pause = delay(Math.min(opts.intervalMs ?? timeouts.pollInterval, deadlineMs - waited));
    await (abort ? Promise.race([pause, abort]) : pause);
  }
}
