/** The verdict engine's vocabulary (DESIGN.md §1–§2). Times are epoch milliseconds. */

export type Outcome = 'ok' | 'error' | 'timeout';

/** One user-facing operation, as a probe saw it. */
export interface OpEvent {
  platform: 'mlflow' | 'kubeflow';
  capability: string;
  op: string;
  start: number;
  end: number;
  outcome: Outcome;
  /** HTTP status when the platform answered (errors and oks alike). */
  status?: number;
  message?: string;
  /** Digest of what was written or returned (artifact sha256, prediction digest). */
  digest?: string;
  /** For an ok whose effect is checkable at once (a prediction vs the golden output): false = wrong. */
  correct?: boolean;
  /** A health/readiness check: `healthOf` names the capability it claims to speak for. */
  healthOf?: string;
}

export interface FaultWindow {
  injectedAt: number;
  revertedAt: number;
  /** A dependency fault (network, crash, resource): 4xx blames the client wrongly. False for bad-input scenarios. */
  dependencyFault: boolean;
}

export interface Deadlines {
  /** An op that neither succeeds nor fails within this is a hang. */
  operationMs: number;
  /** After revert, steady state must be back within this. */
  recoveryMs: number;
  /** How long a health check may stay green after the capability started failing. */
  healthGraceMs: number;
}

/**
 * Steady state: what "kept working" means for `resilient`. The p95 budget is either absolute
 * (`maxP95Ms`), or relative to the capability itself: `relativeP95.factor` times the median
 * latency of its own ok ops before the fault, never below `maxP95Ms`, which is then the floor.
 */
export interface Budget {
  minSuccessRate: number;
  maxP95Ms: number;
  relativeP95?: { factor: number };
}

/**
 * `phantom`: the platform said a write failed and it happened; `unknown-outcome`: the client timed
 * out or lost the connection and the write happened (ambiguous by nature: reported, not silent).
 */
export type LedgerFindingKind = 'lost' | 'altered' | 'phantom' | 'unknown-outcome' | 'zombie' | 'dangling-source' | 'missing-artifact';

/** A discrepancy between what a client saw acknowledged and what the platform returns after recovery. */
export interface LedgerFinding {
  capability: string;
  kind: LedgerFindingKind;
  detail: string;
}

/**
 * `unobserved`: too few ops of the capability overlapped the fault window to say anything about
 * it (see MIN_OPS_IN_WINDOW); never shown as resilient, and it fails any expectation.
 */
export type Verdict = 'resilient' | 'observable' | 'silent' | 'unobserved';
/** The verdicts a scenario may expect (nobody plans for a capability not to be exercised). */
export type ExpectableVerdict = Exclude<Verdict, 'unobserved'>;

export const SILENT_RULES = [
  'lost-write',
  'phantom-write',
  'success-without-effect',
  'hang',
  'lying-health',
  'opaque-error',
  'misattributed-error',
  'no-recovery',
] as const;
export type SilentRule = (typeof SILENT_RULES)[number];

export interface Evidence {
  rule: SilentRule | 'degraded' | 'unobserved';
  op?: string;
  at?: number;
  detail: string;
}

export interface CapabilityStats {
  opsInWindow: number;
  errorsInWindow: number;
  successRateInWindow: number;
  p95MsInWindow: number | null;
  /** Fewer ops than this in the window: `unobserved`. */
  minOpsInWindow: number;
  /** Median latency of the capability's ok ops in its steady state, before the fault. */
  steadyMedianMs: number | null;
  /** The p95 budget applied, and how it was reached (absolute, or relative with its floor). */
  p95BudgetMs: number;
  p95Basis: string;
}

export interface CapabilityVerdict {
  platform: 'mlflow' | 'kubeflow';
  capability: string;
  verdict: Verdict;
  ttdMs: number | null;
  ttrMs: number | null;
  evidence: Evidence[];
  stats: CapabilityStats;
}
