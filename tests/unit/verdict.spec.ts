import { test, expect } from '@playwright/test';
import { judge, type EngineInput } from '../../src/verdict/engine.ts';
import type { LedgerFinding, OpEvent } from '../../src/verdict/types.ts';

// Handcrafted timelines: fault injected at t=10s, reverted at t=20s.
const W = { injectedAt: 10_000, revertedAt: 20_000, dependencyFault: true };
const D = { operationMs: 2_000, recoveryMs: 5_000, healthGraceMs: 1_000 };
const B = { minSuccessRate: 0.95, maxP95Ms: 500 };

function op(start: number, outcome: OpEvent['outcome'] = 'ok', extra: Partial<OpEvent> = {}): OpEvent {
  return { platform: 'mlflow', capability: 'mlflow.tracking', op: 'log_metric', start, end: start + 50, outcome, ...extra };
}
/** One op every second from 0 to 30 s; `during` decides the ops inside the fault window. */
function timeline(during: (t: number) => OpEvent): OpEvent[] {
  const out: OpEvent[] = [];
  for (let t = 0; t <= 30_000; t += 1_000) out.push(t >= W.injectedAt && t < W.revertedAt ? during(t) : op(t));
  return out;
}
const clearError = (t: number) => op(t, 'error', { status: 503, message: 'TEMPORARILY_UNAVAILABLE: database unreachable' });
function run(events: OpEvent[], ledger: LedgerFinding[] = [], overrides: Partial<EngineInput> = {}) {
  const [v] = judge({ events, window: W, deadlines: D, budget: B, ledger, ...overrides });
  if (!v) throw new Error('no verdict');
  return v;
}
const rules = (v: ReturnType<typeof run>) => [...new Set(v.evidence.map((e) => e.rule))];

test.describe('verdict engine', () => {
  test('no fault effect: resilient, no TTD/TTR', () => {
    const v = run(timeline((t) => op(t)));
    expect(v.verdict).toBe('resilient');
    expect(v.ttdMs).toBeNull();
    expect(v.evidence).toEqual([]);
  });

  test('fast, attributed 503s that recover: observable, with TTD and TTR', () => {
    const v = run(timeline(clearError));
    expect(v.verdict).toBe('observable');
    expect(rules(v)).toEqual(['degraded']);
    expect(v.ttdMs, 'first error ends 50 ms after injection').toBe(50);
    expect(v.ttrMs, 'first ok after revert ends 50 ms after it').toBe(50);
  });

  test('hang: an op that never answered', () => {
    const v = run(timeline((t) => (t === 12_000 ? { ...op(t, 'timeout'), end: t + 2_500 } : clearError(t))));
    expect(v.verdict).toBe('silent');
    expect(rules(v)).toEqual(['hang']);
  });

  test('an error exactly at the deadline is in time; 1 ms later is a hang', () => {
    const atDeadline = run(timeline((t) => ({ ...clearError(t), end: t + D.operationMs })));
    expect(atDeadline.verdict).toBe('observable');
    const late = run(timeline((t) => ({ ...clearError(t), end: t + D.operationMs + 1 })));
    expect(late.verdict).toBe('silent');
    expect(rules(late)).toEqual(['hang']);
  });

  test('an op that straddles the injection counts in the window', () => {
    const events = timeline((t) => op(t));
    events.push(op(9_500, 'error', { end: 10_200, status: 503, message: 'TEMPORARILY_UNAVAILABLE' }));
    const v = run(events, [], { budget: { minSuccessRate: 1, maxP95Ms: 500 } });
    expect(v.stats.errorsInWindow).toBe(1);
    expect(v.verdict).toBe('observable');
  });

  test('an op that ended before injection does not count', () => {
    const events = timeline((t) => op(t));
    events.push(op(9_000, 'error', { end: 9_999, status: 503, message: 'unrelated' }));
    const v = run(events, [], { budget: { minSuccessRate: 1, maxP95Ms: 500 } });
    expect(v.stats.errorsInWindow).toBe(0);
  });

  test('opaque error: an empty 503', () => {
    const v = run(timeline((t) => op(t, 'error', { status: 503, message: '' })));
    expect(v.verdict).toBe('silent');
    expect(rules(v)).toEqual(['opaque-error']);
  });

  test('opaque error: proxy text only', () => {
    const v = run(timeline((t) => op(t, 'error', { status: 503, message: 'upstream connect error or disconnect/reset before headers' })));
    expect(rules(v)).toEqual(['opaque-error']);
  });

  test('misattributed: a dependency fault answered with 400', () => {
    const v = run(timeline((t) => op(t, 'error', { status: 400, message: 'QueuePool limit of size 5 overflow 10 reached' })));
    expect(v.verdict).toBe('silent');
    expect(rules(v)).toEqual(['misattributed-error']);
  });

  test('a 400 in a bad-input scenario is the right answer, not misattributed', () => {
    const v = run(timeline((t) => op(t, 'error', { status: 400, message: 'Model is missing inputs [f3]' })), [], { window: { ...W, dependencyFault: false } });
    expect(v.verdict).toBe('observable');
  });

  test('lying health: green long after the capability started failing', () => {
    const events = timeline(clearError);
    for (let t = 0; t <= 30_000; t += 1_000) events.push({ ...op(t + 500), op: 'GET /health', healthOf: 'mlflow.tracking', status: 200 });
    const v = run(events);
    expect(v.verdict).toBe('silent');
    expect(rules(v)).toEqual(['lying-health']);
  });

  test('honest health: red during the failure is not lying', () => {
    const events = timeline(clearError);
    for (let t = 0; t <= 30_000; t += 1_000) {
      const failing = t >= W.injectedAt && t < W.revertedAt;
      events.push({ ...op(t + 500, failing ? 'error' : 'ok', { status: failing ? 503 : 200, message: failing ? 'db down' : undefined }), op: 'readiness', healthOf: 'mlflow.tracking' });
    }
    expect(run(events).verdict).toBe('observable');
  });

  test('health turning green as the capability recovers is not lying', () => {
    // Frozen server: predictions and readiness both hang; on resume the queued readiness check
    // answers 200 just after the last timed-out prediction, and predictions work again.
    const events = timeline((t) => op(t)).filter((e) => e.start < W.injectedAt || e.start > W.revertedAt);
    for (let t = W.injectedAt; t < W.revertedAt; t += D.operationMs) events.push(op(t, 'timeout', { end: t + D.operationMs }));
    events.push({ ...op(W.revertedAt - 1_500), end: W.revertedAt + 70, op: 'ready', healthOf: 'mlflow.tracking', status: 200 });
    const v = run(events);
    expect(rules(v)).not.toContain('lying-health');
  });

  test('success without effect: 200 with a wrong prediction', () => {
    const v = run(timeline((t) => op(t, 'ok', { status: 200, correct: false, message: 'predicted [1,1] expected [0,1]' })));
    expect(v.verdict).toBe('silent');
    expect(rules(v)).toEqual(['success-without-effect']);
  });

  test('success without effect: a FINISHED run missing its artifact (ledger)', () => {
    const v = run(timeline((t) => op(t)), [{ capability: 'mlflow.tracking', kind: 'missing-artifact', detail: 'run r1 FINISHED, model/model.ubj absent' }]);
    expect(rules(v)).toEqual(['success-without-effect']);
  });

  test('lost write and altered write (ledger)', () => {
    const lost = run(timeline((t) => op(t)), [{ capability: 'mlflow.tracking', kind: 'lost', detail: 'metric loss step 7' }]);
    expect(lost.verdict).toBe('silent');
    expect(rules(lost)).toEqual(['lost-write']);
    const altered = run(timeline((t) => op(t)), [{ capability: 'mlflow.tracking', kind: 'altered', detail: 'param lr 0.1 → 0.2' }]);
    expect(rules(altered)).toEqual(['lost-write']);
  });

  test('phantom write (ledger): the platform said it failed and it happened', () => {
    const v = run(timeline((t) => op(t)), [{ capability: 'mlflow.tracking', kind: 'phantom', detail: 'metric loss step 5: told INTERNAL_ERROR, and it happened' }]);
    expect(v.verdict).toBe('silent');
    expect(rules(v)).toEqual(['phantom-write']);
  });

  test('an unknown outcome (timed out, then happened) is reported but not silent', () => {
    const v = run(timeline((t) => op(t)), [{ capability: 'mlflow.tracking', kind: 'unknown-outcome', detail: 'param p3: timed out, and it happened' }]);
    expect(v.verdict).toBe('resilient');
    expect(v.evidence.map((e) => e.detail)).toEqual(['unknown-outcome: param p3: timed out, and it happened']);
  });

  test('no recovery: still failing after the recovery deadline', () => {
    const events = timeline(clearError).map((e) => (e.start >= W.revertedAt ? clearError(e.start) : e));
    const v = run(events);
    expect(v.verdict).toBe('silent');
    expect(rules(v)).toEqual(['no-recovery']);
    expect(v.ttrMs).toBeNull();
  });

  test('recovery just inside the deadline is recovery', () => {
    const events = timeline(clearError).map((e) => (e.start >= W.revertedAt && e.start < W.revertedAt + D.recoveryMs ? clearError(e.start) : e));
    const v = run(events);
    expect(v.verdict).toBe('observable');
    expect(v.ttrMs).toBe(D.recoveryMs + 50);
  });

  test('no recovery: a zombie run (ledger)', () => {
    const v = run(timeline((t) => op(t)), [{ capability: 'mlflow.tracking', kind: 'zombie', detail: 'run r9 RUNNING after its client died' }]);
    expect(rules(v)).toEqual(['no-recovery']);
  });

  test('slow but successful beyond the latency budget: observable, not resilient', () => {
    const v = run(timeline((t) => ({ ...op(t), end: t + 900 })));
    expect(v.verdict).toBe('observable');
  });

  test('several rules at once are all reported', () => {
    const v = run(timeline((t) => (t % 2000 === 0 ? op(t, 'error', { status: 503, message: '' }) : op(t, 'error', { status: 400, message: 'bad request' }))));
    expect(rules(v).sort()).toEqual(['misattributed-error', 'opaque-error']);
  });

  test('one verdict per capability, health events never make their own', () => {
    const events = [...timeline((t) => op(t)), { ...op(1_000), capability: 'mlflow.serving', op: 'predict' }, { ...op(1_500), op: '/health', healthOf: 'mlflow.tracking' }];
    const vs = judge({ events, window: W, deadlines: D, budget: B, ledger: [] });
    expect(vs.map((v) => v.capability).sort()).toEqual(['mlflow.serving', 'mlflow.tracking']);
  });

  test('unobserved: too few ops in the window to judge, never resilient', () => {
    // The artifact calls of a training client stuck behind a hung tracking call: one op, before the fault.
    const events = [...timeline((t) => op(t)).filter((e) => e.start < W.injectedAt - 1_000 || e.start > W.revertedAt), op(W.injectedAt + 3_000)];
    const v = run(events);
    expect(v.stats.opsInWindow).toBe(1);
    expect(v.verdict).toBe('unobserved');
    expect(rules(v)).toEqual(['unobserved']);
    const none = run(timeline((t) => op(t)).filter((e) => e.start < W.injectedAt - 1_000 || e.start > W.revertedAt));
    expect(none.verdict, 'no op at all in the window').toBe('unobserved');
  });

  test('one op in flight under the fault for most of the window met it: judged, not unobserved', () => {
    // A read-back that hung for the whole window and answered after the revert, slowly but right.
    const events = [...timeline((t) => op(t)).filter((e) => e.start < W.injectedAt - 1_000 || e.start > W.revertedAt + 2_000), op(W.injectedAt - 200, 'ok', { end: W.revertedAt + 1_500 })];
    const patient = { deadlines: { ...D, operationMs: 20_000 } };
    const v = run(events, [], patient);
    expect(v.stats.opsInWindow).toBe(1);
    expect(v.verdict).toBe('observable');
    // In flight for less than half the window: unobserved.
    const brief = [...events.slice(0, -1), op(W.injectedAt + 6_000, 'ok', { end: W.revertedAt + 500 })];
    expect(run(brief, [], patient).verdict).toBe('unobserved');
  });

  test('unobserved needs fewer ops where the probe asks for it; silent evidence still wins', () => {
    const two = [...timeline((t) => op(t)).filter((e) => e.start < W.injectedAt - 1_000 || e.start > W.revertedAt), op(12_000), op(16_000)];
    expect(run(two).verdict).toBe('unobserved');
    expect(run(two, [], { minOps: { 'mlflow.tracking': 2 } }).verdict).toBe('resilient');
    const lost = run([op(12_000)], [{ capability: 'mlflow.tracking', kind: 'lost', detail: 'metric loss step 7' }]);
    expect(lost.verdict, 'a lost write is an observation').toBe('silent');
  });

  test('relative budget: scaled from the capability\'s own steady state, with a floor', () => {
    const rel = { minSuccessRate: 0.95, maxP95Ms: 500, relativeP95: { factor: 10 } };
    // Steady median 50 ms → 500 ms: the floor. 900 ms in the window is over it.
    const slow = run(timeline((t) => ({ ...op(t), end: t + 900 })), [], { budget: rel, steadyUntil: W.injectedAt });
    expect(slow.verdict).toBe('observable');
    expect(slow.stats.steadyMedianMs).toBe(50);
    expect(slow.stats.p95BudgetMs).toBe(500);
    expect(slow.stats.p95Basis).toContain('floor');
    // A stack twice as slow in its steady state (median 100 ms ×10 = 1 s): the same 900 ms is within it.
    const slowStack = timeline((t) => ({ ...op(t), end: t + 900 })).map((e) => (e.end < W.injectedAt ? { ...e, end: e.start + 100 } : e));
    const v = run(slowStack, [], { budget: rel, steadyUntil: W.injectedAt });
    expect(v.stats.p95BudgetMs).toBe(1_000);
    expect(v.stats.p95Basis).toContain('10× the steady-state median 100 ms');
    expect(v.verdict).toBe('resilient');
    // Absolute when no relative factor is given.
    expect(run(slowStack, [], { steadyUntil: W.injectedAt }).stats.p95Basis).toBe('absolute 500 ms');
  });

  test('lying health per kind of op: every upload failing is down even while one read-back rides out the fault in flight', () => {
    const uploads = timeline((t) => (t >= W.injectedAt && t < W.revertedAt ? { ...clearError(t), op: 'log_artifact' } : { ...op(t), op: 'log_artifact' }));
    // One read-back in flight from just before the injection until well after the revert, then ok.
    const readBack = { ...op(W.injectedAt - 100), op: 'download_artifact', end: W.revertedAt + 14_000 };
    const health = [] as typeof uploads;
    for (let t = 0; t <= 30_000; t += 1_000) health.push({ ...op(t + 500), op: 'GET /health', healthOf: 'mlflow.tracking', status: 200 });
    // Within a deadline long enough for the read-back (it is slow, not hung).
    const patient = { deadlines: { ...D, operationMs: 30_000 } };
    expect(rules(run([...uploads, readBack, ...health], [], patient))).toEqual(['lying-health']);
    // The same read-back, but the uploads fail only every other time: degraded, not down.
    const someUploads = uploads.map((e, i) => (e.outcome === 'ok' || i % 2 ? { ...e, outcome: 'ok' as const, status: 200, message: undefined } : e));
    expect(rules(run([...someUploads, readBack, ...health], [], patient))).not.toContain('lying-health');
  });

  test('lying health needs the capability down for the grace on both sides, not two unlucky neighbours', () => {
    // Half the ops fail (a degraded capability); health checks land between them.
    const mixed = timeline((t) => (t % 2_000 === 0 ? clearError(t) : op(t)));
    for (let t = 0; t <= 30_000; t += 1_000) mixed.push({ ...op(t + 500), op: 'GET /health', healthOf: 'mlflow.tracking', status: 200 });
    // The old rule looked only at the nearest op on each side: a check inside a long failing op saw two failures.
    mixed.push(op(14_100, 'error', { end: 15_900, status: 503, message: 'TEMPORARILY_UNAVAILABLE' }), { ...op(14_900), op: 'GET /health', healthOf: 'mlflow.tracking', status: 200 });
    expect(rules(run(mixed, [], { deadlines: { ...D, healthGraceMs: 3_000 } }))).not.toContain('lying-health');
  });
});
