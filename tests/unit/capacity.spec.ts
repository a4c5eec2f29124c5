import { test, expect } from '@playwright/test';
import { searchCapacity, type StepAttack } from '../../src/faults/capacity.ts';

/**
 * A FAKE server for the open-loop search: it holds every rate up to `limit` (p50 5 ms, p99 20 ms)
 * and queues above it (p50 400 ms, p99 900 ms). The tries listed in `stalls` have a scheduling
 * stall (p99 300 ms, the median untouched); those in `longStalls` one of 1.5 s. No request is sent.
 */
function fakeServer(limit: number, stalls: number[] = [], longStalls: number[] = []): { attack: StepAttack; tried: number[] } {
  const tried: number[] = [];
  const attack: StepAttack = async ({ rate }) => {
    tried.push(rate);
    const queued = rate > limit;
    const p50Ms = queued ? 400 : 5;
    const p99Ms = longStalls.includes(tried.length) ? 1_500 : queued ? 900 : stalls.includes(tried.length) ? 300 : 20;
    return { success: 1, latencies: { '50th': p50Ms * 1e6, '99th': p99Ms * 1e6 } };
  };
  return { attack, tried };
}

test.describe('capacity search (fake server)', () => {
  test('it finds the rate the server holds, within the refinement', async () => {
    const { attack } = fakeServer(100);
    const c = await searchCapacity('http://fake', '{}', attack, 40);
    // 30 → 45 → 68 → 102 (not held) → 85 → 94: within 12% under 100.
    expect(c.rate).toBeGreaterThanOrEqual(88);
    expect(c.rate).toBeLessThanOrEqual(100);
  });

  test('a stall in the slowest answers is not a queue: the step is held', async () => {
    const steady = await searchCapacity('http://fake', '{}', fakeServer(100).attack, 40);
    // Every try stalls once (p99 300 ms) with the median where it was: judged on the p99, this
    // search went down from its first step (30/s).
    const { attack } = fakeServer(100, Array.from({ length: 20 }, (_, i) => i + 1));
    const c = await searchCapacity('http://fake', '{}', attack, 40);
    expect(c.rate).toBe(steady.rate);
  });

  test('one long stall does not end the search: the rate is tried again, and the search goes on', async () => {
    const steady = await searchCapacity('http://fake', '{}', fakeServer(100).attack, 40);
    // The second try (45/s) stalls 1.5 s once: without a second try the search would stop at 30/s.
    const { attack, tried } = fakeServer(100, [], [2]);
    const c = await searchCapacity('http://fake', '{}', attack, 40);
    expect(tried.slice(0, 4)).toEqual([30, 45, 45, 68]);
    expect(c.rate).toBe(steady.rate);
    expect(c.how).toContain('a step not held gets 2 tries');
  });

  test('a rate that fails both tries is not held, and the note names it', async () => {
    const { attack } = fakeServer(40);
    const c = await searchCapacity('http://fake', '{}', attack, 40);
    expect(c.rate).toBeLessThanOrEqual(40);
    expect(c.rate).toBeGreaterThanOrEqual(35);
    expect(c.steps.filter((s) => s.rate === 45).map((s) => s.stable)).toEqual([false, false]);
    expect(c.how).toMatch(/\(\d+\/s was not: success 100\.0%, p50 400 ms, p99 900 ms\)/);
  });

  test('a start the server does not hold: the search goes down until a rate is held', async () => {
    const { attack, tried } = fakeServer(10);
    const c = await searchCapacity('http://fake', '{}', attack, 40);
    // 30 (twice) → 20 (twice) → 13 (twice, not held) → 8 (held) → 11 (not) → 10 (held).
    expect(tried.slice(0, 7)).toEqual([30, 30, 20, 20, 13, 13, 8]);
    expect(c.rate).toBeGreaterThanOrEqual(9);
    expect(c.rate).toBeLessThanOrEqual(10);
  });

  test('no rate held is an error naming every step, not a guessed capacity', async () => {
    const attack: StepAttack = async () => ({ success: 0.5, latencies: { '50th': 5e6, '99th': 20e6 } });
    await expect(searchCapacity('http://fake', '{}', attack, 40)).rejects.toThrow(/no rate was held, from 30\/s down to \d+\/s .*success 50\.0%/);
  });
});
