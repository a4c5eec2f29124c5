import type { OpEvent } from '../verdict/types.ts';

/** Every event of one experiment, in arrival order. */
export class Timeline {
  readonly events: OpEvent[] = [];

  push(e: OpEvent): void {
    this.events.push(e);
  }

  /** Consecutive ok ops of a capability since `since`, for deciding that steady state is back. */
  okStreak(capability: string, since: number): number {
    let n = 0;
    for (const e of this.events) {
      if (e.capability !== capability || e.healthOf !== undefined || e.start < since) continue;
      n = e.outcome === 'ok' ? n + 1 : 0;
    }
    return n;
  }
}
