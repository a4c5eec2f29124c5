import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import type { Scenario } from '../scenario/types.ts';
import { ManagedProcess } from '../targets/local/managed-process.ts';
import { groupMembers } from '../targets/local/proc.ts';
import { ownerIdentity, removeRecord, saveRecord, type StackRecord } from '../targets/local/registry.ts';
import { timeouts } from '../timeouts.ts';
import { pollUntil } from '../util/poll.ts';
import { progress, type Progress } from '../util/progress.ts';

/**
 * Run condition `--cpu-hog`: one of the machine's two cores kept busy for the whole run by
 * `stress-ng --cpu 1 --cpu-load 100 --timeout <S>s`, started before the stack.
 *
 * Bounded twice: stress-ng stops by itself after S seconds (a lease of at most an hour), and the
 * process is recorded (pid + start time, like a stack's processes) in the stack registry, so a
 * runner killed with SIGKILL leaves a record whose hog the next run (or `mlops-chaos reap`) kills
 * by recorded pid and says so. A run longer than one lease renews it between experiments, never
 * during one. Nothing here ever signals a process it did not start.
 */

/** The words the matrix header and agreement.md use for this condition. */
export const CPU_HOG_CONDITION = 'one core busy (stress-ng --cpu 1)';
/** The longest a single stress-ng may run: what a crashed runner's hog can cost before anything reaps it. */
export const CPU_HOG_MAX_LEASE_MS = 60 * 60_000;
/** A lease is renewed when it would end less than this after the next experiment's bound. */
const LEASE_MARGIN_MS = 60_000;
const RECORD_LABEL = 'run condition cpu-hog (stress-ng)';

export interface CpuHog extends AsyncDisposable {
  readonly describe: string;
  /** The stress-ng process of the current lease. */
  readonly pid: number;
  /**
   * Before an experiment: a hog that runs for at least `needMs` more. When the current lease would
   * end sooner (or stress-ng is gone), a fresh one is started for `restMs` (what the rest of the
   * run may take), capped at an hour.
   */
  hold(needMs: number, restMs: number): Promise<void>;
  /** After an experiment: why the condition did not hold all along (stress-ng gone early), or undefined. */
  lapse(): string | undefined;
}

/** A generous bound on one experiment: every phase at its deadline, plus a minute for probes and reconciliation. */
export function experimentBoundMs(s: Scenario): number {
  const op = s.deadlines.operationMs;
  return s.steadyMs + 3 * op + (s.fault?.durationMs ?? s.observeMs) + s.deadlines.recoveryMs + 3 * op + 60_000;
}

/** The stack's start at its deadline plus every experiment at its bound. */
export function runBoundMs(experimentBounds: number[]): number {
  return timeouts.stackStart + experimentBounds.reduce((a, b) => a + b, 0);
}

export function findStressNg(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const exe = join(dir, 'stress-ng');
    try {
      accessSync(exe, constants.X_OK);
      return exe;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Fails, saying how to install it, when stress-ng is missing; returns its path. */
export function requireStressNg(): string {
  const exe = findStressNg();
  if (!exe) throw new Error('--cpu-hog needs stress-ng, which is not installed: apt-get install stress-ng (scripts/setup installs it)');
  return exe;
}

const leaseSeconds = (ms: number) => Math.ceil(Math.min(CPU_HOG_MAX_LEASE_MS, Math.max(ms, LEASE_MARGIN_MS)) / 1000);

/** Starts the hog (setup) and returns it with its teardown (`asyncDispose`), which stops it by recorded pid. */
export async function startCpuHog(opts: { boundMs: number; logFile: string; log?: Progress }): Promise<CpuHog> {
  const exe = requireStressNg();
  const log = opts.log ?? progress('cpu-hog');
  mkdirSync(dirname(opts.logFile), { recursive: true });

  const record: StackRecord = {
    id: `cpu-hog-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
    owner: ownerIdentity(),
    kept: false,
    workDir: '', // nothing on disk to remove: the log is in the run's reports
    createdAt: new Date().toISOString(),
    processes: [],
    faults: [],
    label: RECORD_LABEL,
  };
  saveRecord(record);

  /** The current lease: one stress-ng, how it ended, and whether the runner ended it. */
  let lease: { proc: ManagedProcess; seconds: number; endsAt: number; exit?: string; stoppedByRunner: boolean } | undefined;
  // Last resort when the runner exits without teardown (uncaught error, process.exit): SIGKILL is
  // synchronous, so it runs from an 'exit' handler. A SIGKILLed runner's hog is the reaper's.
  const killSync = () => lease?.proc.signal('SIGKILL');
  process.on('exit', killSync);

  const launch = async (ms: number): Promise<void> => {
    const seconds = leaseSeconds(ms);
    const proc = ManagedProcess.start({ name: 'cpu-hog', command: exe, args: ['--cpu', '1', '--cpu-load', '100', '--timeout', `${seconds}s`], logFile: opts.logFile });
    const l: NonNullable<typeof lease> = { proc, seconds, endsAt: Date.now() + seconds * 1000, stoppedByRunner: false };
    lease = l;
    void proc.exited.then(({ code, signal }) => {
      l.exit = signal ? `signal ${signal}` : `code ${code}`;
    });
    record.processes = [proc.record];
    saveRecord(record);
    // Running = stress-ng and its CPU worker are both up (the worker is what burns the core).
    await pollUntil(`stress-ng (pid ${proc.pid}) to start its CPU worker`, 10_000, async () =>
      groupMembers(proc.pid, proc.startTime).length >= 2 ? { done: true, value: undefined } : { done: false }, { abort: proc.failOnExit() });
    log(`${CPU_HOG_CONDITION}: pid ${proc.pid}, stops by itself after ${seconds}s`);
  };
  const stop = async (): Promise<void> => {
    if (!lease || lease.stoppedByRunner) return;
    lease.stoppedByRunner = true;
    const wasRunning = lease.proc.running;
    await lease.proc.stop(); // by recorded pid and start time (its process group), never by name
    if (wasRunning) log(`stopped stress-ng (pid ${lease.proc.pid})`);
  };

  try {
    await launch(opts.boundMs);
  } catch (err) {
    await stop();
    process.off('exit', killSync);
    removeRecord(record.id);
    throw err;
  }

  return {
    describe: CPU_HOG_CONDITION,
    get pid() {
      return lease!.proc.pid;
    },
    async hold(needMs, restMs) {
      const l = lease!;
      if (l.proc.running && !l.stoppedByRunner && l.endsAt - Date.now() >= needMs + LEASE_MARGIN_MS) return;
      const why = l.proc.running ? `its ${l.seconds}s lease would end within the next experiment's bound` : 'stress-ng is gone';
      await stop();
      log(`renewing: ${why}`);
      await launch(Math.max(restMs, needMs + LEASE_MARGIN_MS));
    },
    lapse() {
      const l = lease;
      if (!l || l.proc.running || l.stoppedByRunner) return undefined;
      const early = Date.now() < l.endsAt - 2_000;
      return `stress-ng (pid ${l.proc.pid}) ${early ? 'exited early' : `reached its ${l.seconds}s bound`} (${l.exit ?? 'exited'}) during the experiment: one core was not busy all along; its log: ${opts.logFile}`;
    },
    async [Symbol.asyncDispose]() {
      await stop();
      process.off('exit', killSync);
      removeRecord(record.id);
    },
  };
}
