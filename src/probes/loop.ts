import { setTimeout as pace } from 'node:timers/promises';

/** Hard bound on any probe loop, whatever the scenario's durations. */
export const MAX_OPS_PER_PROBE = 2_000;

/**
 * Runs `op` every `intervalMs` (open loop: the next op starts on schedule or right after a
 * slow one) until the signal aborts or MAX_OPS_PER_PROBE is reached.
 */
export async function loop(signal: AbortSignal, intervalMs: number, op: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < MAX_OPS_PER_PROBE && !signal.aborted; i++) {
    const started = Date.now();
    await op(i);
    const wait = intervalMs - (Date.now() - started);
    if (wait > 0 && !signal.aborted) await pace(wait, undefined, { signal }).catch(() => undefined);
  }
}
