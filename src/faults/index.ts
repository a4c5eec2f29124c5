import { randomBytes } from 'node:crypto';
import type { ProcessName, Stack } from '../targets/stack.ts';
import { bandwidth } from './bandwidth.ts';
import { clientKill } from './client-kill.ts';
import { coldStart } from './cold-start.ts';
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
import { clockSkew } from './clock-skew.ts';
import { cpuThrottle } from './cpu-throttle.ts';
import { diskFull } from './disk-full.ts';
import { oom } from './oom.ts';
import { partition } from './partition.ts';
import { podDelete } from './pod-delete.ts';
import { badRollout } from './bad-rollout.ts';
import { resourceQuota } from './resource-quota.ts';
import { mtlsStrict } from './mtls-strict.ts';
import { sidecarNotReady } from './sidecar-not-ready.ts';
import { h2Upgrade } from './h2-upgrade.ts';
import { nodePause } from './node-pause.ts';
import { networkPolicy } from './network-policy.ts';
import type { FaultLog, FaultModule, FaultScope, FaultType, Injected } from './types.ts';

export const FAULTS: Record<FaultType, FaultModule> = {
  outage, blackhole, latency, bandwidth, reset, 'limit-data': limitData, 'slow-close': slowClose, kill, pause,
  'conn-exhaustion': connExhaustion, 'storage-quota': storageQuota, overload, 'client-kill': clientKill, 'pool-saturation': poolSaturation,
  partition, 'cpu-throttle': cpuThrottle, oom, 'clock-skew': clockSkew, 'disk-full': diskFull,
  'resource-quota': resourceQuota, 'pod-delete': podDelete, 'bad-rollout': badRollout, 'mtls-strict': mtlsStrict, 'sidecar-not-ready': sidecarNotReady, 'h2-upgrade': h2Upgrade, 'node-pause': nodePause, 'network-policy': networkPolicy,
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
export async function injectFault(stack: Stack, spec: FaultSpec, log: FaultLog, scope: FaultScope = { clients: new Map() }): Promise<FaultHandle> {
  // The window opens as injection starts: a fault that takes seconds to apply (a quota set
  // through weed shell) acts before its inject returns, and those seconds belong to it.
  const injectedAt = Date.now();
  const injected = await FAULTS[spec.type].inject(stack, spec.target, spec.params, scope);
  return arm(spec, spec.restart ? coldStart(stack, spec.restart, injected) : injected, log, injectedAt);
}

/** A fault's preparation, if it has one: before the window opens. */
export async function prepareFault(stack: Stack, spec: FaultSpec): Promise<void> {
  await FAULTS[spec.type].prepare?.(stack, spec.target, spec.params);
}

/**
 * Writes an injected fault down and arms its revert: shared by real faults and negative controls'
 * planted ones. The window opens when injection began, or when the fault says it became active.
 */
export function arm(spec: FaultSpec | PlantedSpec, injected: Injected, log: FaultLog, injectionStarted = Date.now()): FaultHandle {
  const injectedAt = injected.activeAt ?? injectionStarted;
  const id = `${spec.type}-${randomBytes(4).toString('hex')}`;
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
  const timer = setTimeout(() => void revert().catch(() => undefined), Math.max(0, injectedAt + spec.durationMs - Date.now()));
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
