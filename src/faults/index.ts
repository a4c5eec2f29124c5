import { randomBytes } from 'node:crypto';
import type { ProcessName, Stack } from '../targets/stack.ts';
import { bandwidth } from './bandwidth.ts';
import { clientKill } from './client-kill.ts';
import { connExhaustion } from './conn-exhaustion.ts';
import { storageQuota } from './storage-quota.ts';
import { overload } from './overload.ts';
import { blackhole } from './blackhole.ts';
import { kill } from './kill.ts';
import { latency } from './latency.ts';
import { limitData } from './limit-data.ts';
import { outage } from './outage.ts';
import { pause } from './pause.ts';
import { poolSaturation } from './pool-saturation.ts';
import { reset } from './reset.ts';
import { slowClose } from './slow-close.ts';
import type { ClientProcesses, FaultLog, FaultModule, FaultType, Injected } from './types.ts';

export const FAULTS: Record<FaultType, FaultModule> = {
  outage, blackhole, latency, bandwidth, reset, 'limit-data': limitData, 'slow-close': slowClose, kill, pause,
  'conn-exhaustion': connExhaustion, 'storage-quota': storageQuota, overload, 'client-kill': clientKill, 'pool-saturation': poolSaturation,
};

/** A failure planted by a negative control (a lying middlebox, a crash nobody restarts): not for scenarios. */
export interface PlantedSpec {
  type: `planted:${string}`;
  target: string;
  params: Record<string, number>;
  durationMs: number;
  inject(): Promise<Injected>;
}

export interface FaultSpec {
  type: FaultType;
  /** An edge name for edge faults, a process name for process faults, a workload for client faults. */
  target: string;
  params: Record<string, number>;
  durationMs: number;
  /** A process started afresh once the fault is on (a new replica, a cold start): does it come up, and how does it fail? */
  restart?: ProcessName;
}

/** An active fault. `revert` is idempotent and also runs by itself when the duration is up. */
export interface FaultHandle extends AsyncDisposable {
  readonly spec: FaultSpec | PlantedSpec;
  readonly injectedAt: number;
  readonly revertedAt: number | undefined;
  readonly note: string | undefined;
  /** Settles when the fault has been reverted, by `revert()` or by its own timer. */
  readonly reverted: Promise<void>;
  revert(): Promise<void>;
}

/**
 * Injects a fault, writes it down (so a crashed run's faults are reverted at the next start),
 * and arms its self-revert after `durationMs`: no fault outlives its scenario.
 */
export async function injectFault(stack: Stack, spec: FaultSpec, log: FaultLog, clients: ClientProcesses = new Map()): Promise<FaultHandle> {
  const injected = await FAULTS[spec.type].inject(stack, spec.target, spec.params, clients);
  return arm(spec, spec.restart ? coldStart(stack, spec.restart, injected) : injected, log);
}

/**
 * Starts `name` afresh while the fault holds (as a new replica would) and, at revert, after the
 * fault's own undo, makes sure it is serving again, starting it once more if it gave up (as a
 * restart policy would). The note says how the start under the fault went.
 */
function coldStart(stack: Stack, name: ProcessName, injected: Injected): Injected {
  const proc = stack.process(name);
  const started = Date.now();
  let outcome = 'still starting when the fault was reverted';
  const up = proc.restart().then(
    () => void (outcome = `came up ${((Date.now() - started) / 1000).toFixed(1)} s after it started under the fault`),
    (err: unknown) => void (outcome = `did not come up under the fault: ${firstAndLast(err instanceof Error ? err.message : String(err))}`),
  );
  return {
    persisted: injected.persisted,
    undo: async () => {
      await injected.undo();
      await up;
      if (!outcome.startsWith('came up')) await proc.restart();
    },
    get note() {
      return `${injected.note ? `${injected.note}; ` : ''}${name} restarted under the fault: ${outcome}`;
    },
  };
}

/** Writes an injected fault down and arms its revert: shared by real faults and negative controls' planted ones. */
export function arm(spec: FaultSpec | PlantedSpec, injected: Injected, log: FaultLog): FaultHandle {
  const id = `${spec.type}-${randomBytes(4).toString('hex')}`;
  const injectedAt = Date.now();
  log.add({ id, type: spec.type, target: spec.target, injectedAt: new Date(injectedAt).toISOString(), revert: injected.persisted });

  let revertedAt: number | undefined;
  let reverting: Promise<void> | undefined;
  let signalReverted: () => void = () => undefined;
  const reverted = new Promise<void>((r) => (signalReverted = r));
  const revert = (): Promise<void> => {
    reverting ??= (async () => {
      clearTimeout(timer);
      revertedAt = Date.now();
      try {
        await injected.undo();
      } finally {
        log.remove(id);
        signalReverted();
      }
    })();
    return reverting;
  };
  const timer = setTimeout(() => void revert().catch(() => undefined), spec.durationMs);
  return {
    spec,
    injectedAt,
    get note() {
      return injected.note;
    },
    get revertedAt() {
      return revertedAt;
    },
    reverted,
    revert,
    [Symbol.asyncDispose]: revert,
  };
}

/** "X exited (code 1); last log lines:" plus the last of them: what a person needs from a failed start. */
function firstAndLast(message: string): string {
  const lines = message.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.length > 1 ? `${lines[0]} … ${lines.at(-1)}` : (lines[0] ?? '')).slice(0, 400);
}
