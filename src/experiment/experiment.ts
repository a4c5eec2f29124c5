import { setMaxListeners } from 'node:events';
import { mkdirSync } from 'node:fs';
import { arm, injectFault, prepareFault, type FaultHandle, type FaultSpec, type PlantedSpec } from '../faults/index.ts';
import type { MeshControl } from '../faults/types.ts';
import { timeouts } from '../timeouts.ts';
import { Ledger, type LedgerReader } from '../ledger/ledger.ts';
import { mlflowLedgerReader } from '../ledger/mlflow-reader.ts';
import { WORKLOADS, type WorkloadName } from '../probes/index.ts';
import { Timeline } from '../probes/timeline.ts';
import type { Probe, ProbeContext, ProbeEndpoints } from '../probes/types.ts';
import type { Stack } from '../targets/stack.ts';
import { pollUntil } from '../util/poll.ts';
import type { Progress } from '../util/progress.ts';
import { judge } from '../verdict/engine.ts';
import type { Budget, CapabilityVerdict, Deadlines, LedgerFinding, OpEvent } from '../verdict/types.ts';
import type { MlflowClientSettings } from '../workloads/mlflow-client.ts';

export interface ExperimentSpec {
  name: string;
  workloads: WorkloadName[];
  /** null: a no-fault baseline, observed for `baselineMs`. A planted fault is a negative control's. */
  fault: FaultSpec | PlantedSpec | null;
  /** False for client-mistake scenarios (bad input), where a 4xx is the right answer. */
  dependencyFault: boolean;
  deadlines: Deadlines;
  budget: Budget;
  /** Minimum steady-state observation before injecting. */
  steadyMs: number;
  baselineMs: number;
  client: MlflowClientSettings;
  clientVenv: 'mlflow3' | 'mlflow2';
}

export interface ExperimentResult {
  fault: { type: string; target: string; params: Record<string, number>; injectedAt: string; revertedAt: string; note?: string } | null;
  verdicts: CapabilityVerdict[];
  timeline: OpEvent[];
  ledger: LedgerFinding[];
  window: { injectedAt: number; revertedAt: number };
}

/** Each phase runs through this: `test.step` under Playwright, a progress line in the CLI. */
export type StepRunner = <T>(name: string, body: () => Promise<T>) => Promise<T>;

const STEADY_OK_STREAK = 3;
const RECOVERED_OK_STREAK = 3;

/**
 * steady state → inject → observe → revert → recover → reconcile; then the verdicts.
 * Probes and the fault are always stopped and reverted, whatever fails.
 */
export async function runExperiment(
  stack: Stack,
  spec: ExperimentSpec,
  opts: {
    step: StepRunner; logDir: string; log: Progress; endpoints?: Partial<ProbeEndpoints>;
    /** A reader the caller shares across experiments on this stack (and disposes); absent: one of its own. */
    ledgerReader?: LedgerReader;
    /** A mesh scenario's intermittent load, for `kserve.poll` and `mlflow.poll`. */
    meshLoad?: ProbeContext['meshLoad'];
    /** A mesh scenario's sidecars, for the faults that act on them. */
    mesh?: MeshControl;
  },
): Promise<ExperimentResult> {
  mkdirSync(opts.logDir, { recursive: true });
  const timeline = new Timeline();
  const ledger = new Ledger();
  const stop = new AbortController();
  // Every probe loop waits on this signal; a mesh's pollers alone are dozens of them.
  setMaxListeners(0, stop.signal);
  let faultActive = false;
  const ctx: ProbeContext = {
    faultActive: () => faultActive,
    clients: new Map(),
    endpoints: { ...stack.endpoints, ...opts.endpoints },
    reference: stack.reference,
    objectStore: stack.objectStore,
    timeline,
    ledger,
    signal: stop.signal,
    operationDeadlineMs: spec.deadlines.operationMs,
    client: spec.client,
    clientVenv: spec.clientVenv,
    ...(stack.venvs ? { venvs: stack.venvs } : {}),
    clientEnv: stack.clientEnv,
    logDir: opts.logDir,
    ...(opts.meshLoad ? { meshLoad: opts.meshLoad } : {}),
  };
  const probes: Probe[] = spec.workloads.map((w) => WORKLOADS[w]());
  const capabilities = [...new Set(probes.flatMap((p) => p.capabilities))];
  const longOps = new Map(probes.flatMap((p) => (p.longOps ? p.capabilities.map((c) => [c, p.longOps!] as const) : [])));
  const streak = (c: string, dflt: number) => Math.min(dflt, longOps.get(c)?.okStreak ?? dflt);
  let steadyUntil = 0;
  // Steady state counts from here: a probe's first op starts at once, and a KFP run is 10-15 s
  // long, so counting from the step's own start would leave it out and wait for a second run.
  const probesStarted = Date.now();
  const running = probes.map((p) => p.run(ctx));
  let fault: FaultHandle | undefined;
  let window = { injectedAt: 0, revertedAt: 0 };
  try {
    await opts.step('steady state', async () => {
      const since = probesStarted;
      await pollUntil(`steady state (${STEADY_OK_STREAK} ok ops in a row for ${capabilities.join(', ')})`, spec.steadyMs + spec.deadlines.operationMs * 3, async () => {
        const missing = capabilities.filter((c) => timeline.okStreak(c, since) < streak(c, STEADY_OK_STREAK));
        return Date.now() - since >= spec.steadyMs && missing.length === 0 ? { done: true, value: undefined } : { done: false, note: lastErrors(timeline, missing) };
      }, { intervalMs: timeouts.timelinePoll });
    });
    // What the capabilities did up to here is their own baseline; a fault's set-up (an overload's
    // capacity search) comes after it.
    steadyUntil = Date.now();
    if (spec.fault) {
      const f = spec.fault;
      if (!('inject' in f)) await opts.step(`prepare ${f.type} on ${f.target}`, () => prepareFault(stack, f));
      fault = await opts.step(`inject ${f.type} on ${f.target}`, async () => {
        if (!('inject' in f)) return injectFault(stack, f, stack.faultLog, { clients: ctx.clients, ...(opts.mesh ? { mesh: opts.mesh } : {}) });
        const injectedAt = Date.now();
        return arm(f, await f.inject(), stack.faultLog, injectedAt);
      });
      faultActive = true;
      const injected = fault;
      await opts.step(`observe for ${f.durationMs} ms`, () => injected.reverted);
      await opts.step('revert', () => injected.revert());
      faultActive = false;
      window = { injectedAt: injected.injectedAt, revertedAt: injected.revertedAt ?? Date.now() };
    } else {
      const injectedAt = Date.now();
      faultActive = true;
      await opts.step(`observe without a fault for ${spec.baselineMs} ms`, () =>
        pollUntil('the baseline observation window to pass', spec.baselineMs + 1_000, async () => (Date.now() - injectedAt >= spec.baselineMs ? { done: true, value: undefined } : { done: false })),
      );
      faultActive = false;
      window = { injectedAt, revertedAt: Date.now() };
    }
    await opts.step('recover', async () => {
      const since = window.revertedAt;
      try {
        await pollUntil(`every capability back to ${RECOVERED_OK_STREAK} ok ops in a row`, spec.deadlines.recoveryMs + spec.deadlines.operationMs, async () => {
          const missing = capabilities.filter((c) => timeline.okStreak(c, since) < streak(c, RECOVERED_OK_STREAK));
          return missing.length === 0 ? { done: true, value: undefined } : { done: false, note: lastErrors(timeline, missing) };
        }, { intervalMs: timeouts.timelinePoll });
      } catch (err) {
        opts.log(`no recovery: ${(err as Error).message}`); // the no-recovery rule judges it; the experiment goes on
      }
    });
  } finally {
    stop.abort();
    await fault?.revert();
    await Promise.allSettled(running);
  }
  const findings = await opts.step('reconcile the ledger', async () => {
    // Each probe ends its own run and closes its own clients: nothing one does waits on another.
    // All of them finish before an error of one goes on, so no client outlives the experiment.
    const finished = await Promise.allSettled(probes.map((p) => p.finish?.(ctx)));
    const failed = finished.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    if (opts.ledgerReader) return ledger.reconcile(opts.ledgerReader);
    const reader = mlflowLedgerReader(stack.endpoints.mlflowDirect, opts.logDir, stack.clientEnv);
    try {
      return await ledger.reconcile(reader);
    } finally {
      await reader[Symbol.asyncDispose]();
    }
  });
  const w = { ...window, dependencyFault: spec.dependencyFault };
  const minOps = Object.fromEntries([...longOps].map(([c, l]) => [c, l.minOpsInWindow]));
  const verdicts = judge({ events: timeline.events, window: w, deadlines: spec.deadlines, budget: spec.budget, ledger: findings, steadyUntil, minOps });
  return {
    fault: spec.fault && fault ? { type: spec.fault.type, target: spec.fault.target, params: spec.fault.params, injectedAt: new Date(window.injectedAt).toISOString(), revertedAt: new Date(window.revertedAt).toISOString(), ...(fault.note ? { note: fault.note } : {}) } : null,
    verdicts,
    timeline: timeline.events,
    ledger: findings,
    window,
  };
}

function lastErrors(t: Timeline, caps: string[]): string {
  return caps
    .map((c) => {
      const last = t.events.filter((e) => e.capability === c && e.healthOf === undefined).at(-1);
      return `${c}: ${last ? `${last.outcome}${last.status ? ` ${last.status}` : ''} ${(last.message ?? '').slice(0, 80)}` : 'no op yet'}`;
    })
    .join('; ');
}
