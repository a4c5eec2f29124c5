import { expect, test } from '@playwright/test';
import { phaseOf, phaseTimes, timeSpentSummary } from '../../src/report/time-spent.ts';

const step = (name: string, start: number, stop: number) => ({ name, start, stop });

test.describe('time spent by phase', () => {
  test('every step runScenario names falls in its phase', () => {
    expect(phaseOf('steady state')).toBe('steady state');
    expect(phaseOf('prepare overload on client->kserve')).toBe('fault set-up');
    expect(phaseOf('inject pool-saturation on mlflow')).toBe('fault set-up');
    expect(phaseOf('observe for 20000 ms')).toBe('fault window');
    expect(phaseOf('observe without a fault for 10000 ms')).toBe('fault window');
    expect(phaseOf('revert')).toBe('fault window');
    expect(phaseOf('recover')).toBe('recovery');
    expect(phaseOf('reconcile the ledger')).toBe('reconcile');
    expect(phaseOf('put sidecars on client->mlflow')).toBe('set-up');
    expect(phaseOf('put kserve under its autoscaler')).toBe('set-up');
    expect(phaseOf('remove the sidecars')).toBe('tear-down');
    expect(phaseOf('take the autoscaler away')).toBe('tear-down');
    expect(phaseOf('something new')).toBe('other');
  });

  test('an experiment sums its steps per phase', () => {
    expect(phaseTimes([step('steady state', 0, 3_000), step('prepare overload on e', 3_000, 36_000), step('inject overload on e', 36_000, 36_300), step('observe for 20000 ms', 36_300, 56_300), step('recover', 56_300, 58_300)])).toEqual({
      'steady state': 3_000,
      'fault set-up': 33_300,
      'fault window': 20_000,
      recovery: 2_000,
    });
  });

  test('a run says its largest phases first, with shares, and its longest experiments', () => {
    const line = timeSpentSummary([
      { scenario: 'a', durationMs: 60_000, phases: { 'fault window': 20_000, 'fault set-up': 33_000, 'steady state': 7_000 } },
      { scenario: 'b', durationMs: 40_000, phases: { 'fault window': 30_000, recovery: 10_000 } },
    ], 1);
    expect(line).toBe('time: 100 s in 2 experiments: fault window 50 s (50%), fault set-up 33 s (33%), recovery 10 s (10%), steady state 7 s (7%); longest: a 60 s (fault set-up 33 s)');
  });

  test('an errored experiment without phases still counts its time', () => {
    expect(timeSpentSummary([{ scenario: 'x', durationMs: 5_000 }])).toBe('time: 5 s in 1 experiment; longest: x 5 s');
  });
});
