import type { Phase } from './time-spent.ts';
import { FAULTS } from '../faults/index.ts';
import type { ExperimentResult } from '../experiment/experiment.ts';
import type { MeshReport } from '../mesh/mesh.ts';
import type { AutoscaleReport } from './autoscale.ts';
import type { Scenario } from '../scenario/types.ts';
import type { Stack, TargetName } from '../targets/stack.ts';
import type { CapabilityVerdict, Evidence, ExpectableVerdict, Verdict } from '../verdict/types.ts';

/** How a verdict compares with the scenario's expectation. */
export type Judgement = 'as-expected' | 'unexpected-pass' | 'mismatch' | 'new-silent';

export interface VerdictEntry {
  platform: string;
  capability: string;
  verdict: Verdict;
  expected: ExpectableVerdict | null;
  known?: string;
  judgement: Judgement;
  ttdMs: number | null;
  ttrMs: number | null;
  evidence: Evidence[];
  stats: CapabilityVerdict['stats'];
}

/** One scenario's entry in results.json (DESIGN.md §3). */
export interface ScenarioResult {
  scenario: string;
  file: string;
  target: TargetName;
  versions: Record<string, string>;
  client: Scenario['client'];
  fault: { type: string; edge?: string; process?: string; params: Record<string, number>; injectedAt: string; revertedAt: string; note?: string } | null;
  verdicts: VerdictEntry[];
  ledgerFindings: number;
  durationMs: number;
  /** The experiment's time by phase, ms (time-spent.ts). */
  phases?: Partial<Record<Phase, number>>;
  /** 1-based index of the repetition (`--repeat N`); absent when a run has one repetition. */
  repeat?: number;
  /** The sidecars a mesh scenario put on an edge, and what their access logs recorded. */
  mesh?: MeshReport;
  /** What the autoscaler of an `autoscale` scenario did in the window. */
  autoscale?: AutoscaleReport;
  /** The experiment itself failed (steady state never reached, a fault that would not inject): no verdicts, and the run fails. */
  error?: string;
}

const RANK: Record<ExpectableVerdict, number> = { resilient: 2, observable: 1, silent: 0 };

/** `unobserved` agrees with no expectation: a capability not exercised is never taken as passing. */
export function judgeAgainst(v: Verdict, expected: ExpectableVerdict | null): Judgement {
  if (v === 'unobserved') return 'mismatch';
  if (expected === null) return v === 'silent' ? 'new-silent' : 'as-expected';
  if (v === expected) return 'as-expected';
  if (v === 'silent') return 'new-silent';
  return RANK[v] > RANK[expected] && expected === 'silent' ? 'unexpected-pass' : 'mismatch';
}

/** An experiment that could not run: recorded with its reason so the matrix shows the gap and the run goes on. */
export function erroredResult(s: Scenario, error: string, stack: Pick<Stack, 'target' | 'versions'>, durationMs: number): ScenarioResult {
  return { scenario: s.name, file: s.file, target: stack.target, versions: stack.versions, client: s.client, fault: null, verdicts: [], ledgerFindings: 0, durationMs, error };
}

/** A run fails on a new silent verdict or any other mismatch; an upstream fix (unexpected pass) is reported, not failed. */
export const failsRun = (j: Judgement): boolean => j === 'new-silent' || j === 'mismatch';

export function toResult(s: Scenario, r: ExperimentResult, stack: Pick<Stack, 'target' | 'versions'>, durationMs: number): ScenarioResult {
  return {
    scenario: s.name,
    file: s.file,
    target: stack.target,
    versions: stack.versions,
    client: s.client,
    fault: r.fault
      ? { type: r.fault.type, [s.fault && FAULTS[s.fault.type].on === 'process' ? 'process' : 'edge']: r.fault.target, params: r.fault.params, injectedAt: r.fault.injectedAt, revertedAt: r.fault.revertedAt, ...(r.fault.note ? { note: r.fault.note } : {}) }
      : null,
    verdicts: r.verdicts.map((v) => {
      const exp = s.expect[v.capability];
      return {
        platform: v.platform, capability: v.capability, verdict: v.verdict, expected: exp?.verdict ?? null,
        ...(exp?.known ? { known: exp.known } : {}),
        judgement: judgeAgainst(v.verdict, exp?.verdict ?? null),
        ttdMs: v.ttdMs, ttrMs: v.ttrMs, evidence: v.evidence.slice(0, 10), stats: v.stats,
      };
    }),
    ledgerFindings: r.ledger.length,
    durationMs,
  };
}
