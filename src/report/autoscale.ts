import type { AutoscaleSample, AutoscaleSpec } from '../targets/stack.ts';

/**
 * What became of the load's wait for another replica: the autoscaler never asked for one (`kept`),
 * asked but none was ready in the window (`not-ready`), one was ready and never took half its even
 * share between two looks (`starved`), or it did (`serving`).
 */
export type AutoscaleOutcome = 'kept' | 'not-ready' | 'starved' | 'serving';

/**
 * What an autoscaler did in a scenario's fault window, from its samples: the seed's question is
 * not whether it scales but how long the load waits for a replica that serves. Times are from the
 * window's opening (the load's start). Pure: unit-tested.
 */
export interface AutoscaleReport {
  spec: AutoscaleSpec;
  outcome: AutoscaleOutcome;
  /** The scenario's `autoscale.expect`, when it has one, and whether the outcome met it. */
  expected?: 'serving' | 'starved';
  asExpected?: boolean;
  /** The autoscaler first asked for more replicas than it had at the start. */
  scaleUpAfterMs: number | null;
  /** A pod it added was first seen ready. */
  newReplicaReadyAfterMs: number | null;
  /** Predictions answered from then to the window's end: by the added pods, and by all. */
  servedAfterReady: { byNew: number; total: number } | null;
  /**
   * The added pods first took at least half their even share of the predictions between two looks
   * (a quarter with two replicas): the replica serving, not only ready. Null: never in the window.
   */
  servingAfterMs: number | null;
  /** The highest utilization it read in the window (% of the request), and the most replicas it wanted. */
  maxCpuPercent: number | null;
  maxDesired: number;
  samples: number;
  summary: string;
}

export function summarizeAutoscale(spec: AutoscaleSpec, samples: readonly AutoscaleSample[], initialPods: readonly string[], window: { injectedAt: number; revertedAt: number }): AutoscaleReport {
  const inWindow = samples.filter((s) => s.at >= window.injectedAt && s.at <= window.revertedAt);
  const start = initialPods.length;
  const after = (t: number | undefined) => (t === undefined ? null : t - window.injectedAt);
  const scaleUp = inWindow.find((s) => s.desired > start);
  const added = (s: AutoscaleSample) => s.ready.filter((p) => !initialPods.includes(p));
  const firstReady = inWindow.find((s) => added(s).length > 0);
  let servedAfterReady: AutoscaleReport['servedAfterReady'] = null;
  const last = inWindow[inWindow.length - 1];
  if (firstReady && last) {
    // Each pod's counter from the first look with an added pod ready to the last look in the window
    // (an added pod starts from 0; a pod gone before the end counts up to its last look).
    const delta = (pod: string) => {
      const seen = inWindow.filter((s) => s.at >= firstReady.at && s.served[pod] !== undefined);
      if (!seen.length) return 0;
      const from = initialPods.includes(pod) ? seen[0]!.served[pod]! : 0;
      return seen[seen.length - 1]!.served[pod]! - from;
    };
    const pods = [...new Set(inWindow.filter((s) => s.at >= firstReady.at).flatMap((s) => Object.keys(s.served)))];
    const byNew = pods.filter((p) => !initialPods.includes(p)).reduce((n, p) => n + delta(p), 0);
    servedAfterReady = { byNew, total: pods.reduce((n, p) => n + delta(p), 0) };
  }
  let serving: AutoscaleSample | undefined;
  if (firstReady) {
    const from = inWindow.indexOf(firstReady);
    for (let i = Math.max(1, from); i < inWindow.length && !serving; i++) {
      const [prev, cur] = [inWindow[i - 1]!, inWindow[i]!];
      const pods = Object.keys(cur.served);
      const gained = (p: string) => cur.served[p]! - (prev.served[p] ?? 0);
      const total = pods.reduce((n, p) => n + gained(p), 0);
      const byNew = pods.filter((p) => !initialPods.includes(p)).reduce((n, p) => n + gained(p), 0);
      if (total > 0 && pods.length > 0 && byNew / total >= 0.5 / pods.length) serving = cur;
    }
  }
  const cpus = inWindow.flatMap((s) => (s.cpuPercent === undefined ? [] : [s.cpuPercent]));
  const maxCpuPercent = cpus.length ? Math.max(...cpus) : null;
  const maxDesired = Math.max(start, ...inWindow.map((s) => s.desired));
  const secs = (ms: number | null) => `${((ms ?? 0) / 1000).toFixed(1)} s`;
  const windowS = secs(window.revertedAt - window.injectedAt);
  let summary: string;
  if (!scaleUp) summary = `the autoscaler kept ${start} replica${start === 1 ? '' : 's'} through the ${windowS} window (CPU at most ${maxCpuPercent ?? '?'}% of the request, target ${spec.cpuTargetPercent}%)`;
  else {
    summary = `the autoscaler asked for ${scaleUp.desired} replicas ${secs(after(scaleUp.at))} after the load began (CPU ${scaleUp.cpuPercent ?? '?'}% of the request, target ${spec.cpuTargetPercent}%)`;
    if (!firstReady) summary += `; no added replica was ready by the window's end (${windowS})`;
    else {
      const s = servedAfterReady ?? { byNew: 0, total: 0 };
      const share = s.total > 0 ? ` (${((100 * s.byNew) / s.total).toFixed(1)}%)` : '';
      summary += `; the added replica was ready ${secs(after(firstReady.at))} after the load began and served ${s.byNew} of the ${s.total} predictions${share} from then to the window's end`;
      summary += serving ? `; it took its share ${secs(after(serving.at))} after the load began` : '; it never took half its even share between two looks';
    }
  }
  const outcome: AutoscaleOutcome = !scaleUp ? 'kept' : !firstReady ? 'not-ready' : serving ? 'serving' : 'starved';
  const expectation = spec.expect ? { expected: spec.expect, asExpected: outcome === spec.expect } : {};
  if (spec.expect) summary += outcome === spec.expect ? ` (${outcome}, as expected)` : ` (${outcome}; expected ${spec.expect})`;
  return { spec, outcome, ...expectation, scaleUpAfterMs: after(scaleUp?.at), newReplicaReadyAfterMs: after(firstReady?.at), servedAfterReady, servingAfterMs: after(serving?.at), maxCpuPercent, maxDesired, samples: inWindow.length, summary };
}
