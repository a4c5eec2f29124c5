import type { FaultWindow, OpEvent } from './types.ts';

/** An op is in the window if it overlaps it at all: one that straddles injection counts. */
export function inWindow(e: OpEvent, w: FaultWindow): boolean {
  return e.end >= w.injectedAt && e.start <= w.revertedAt;
}

export const isFailure = (e: OpEvent): boolean => e.outcome !== 'ok';
export const isHealth = (e: OpEvent): boolean => e.healthOf !== undefined;
export const durationMs = (e: OpEvent): number => e.end - e.start;

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}
