import type { FaultRecord } from '../targets/local/registry.ts';
import type { Stack, TargetName } from '../targets/stack.ts';

export const FAULT_TYPES = ['outage', 'blackhole', 'latency', 'bandwidth', 'reset', 'limit-data', 'slow-close', 'kill', 'pause', 'conn-exhaustion', 'storage-quota', 'overload', 'client-kill', 'pool-saturation', 'partition', 'cpu-throttle', 'oom', 'clock-skew', 'disk-full', 'resource-quota', 'pod-delete', 'bad-rollout', 'mtls-strict', 'sidecar-not-ready', 'h2-upgrade', 'node-pause', 'network-policy'] as const;
export type FaultType = (typeof FAULT_TYPES)[number];

/** A numeric fault parameter: validated before anything is injected. */
export interface ParamSpec {
  doc: string;
  min: number;
  max?: number;
  default?: number;
}

/** What `inject` leaves behind: how to undo it now, and how a later run undoes it if this one crashes. */
export interface Injected {
  undo: () => Promise<void>;
  persisted: FaultRecord['revert'];
  /** What the fault measured or decided (a load rate, say), recorded with the results. */
  note?: string;
  /**
   * When the fault itself began acting, for a fault whose inject first sets the stage (a server
   * restarted with a small pool before the clients that saturate it start): the window opens here
   * and its duration runs from here. Absent: the window opens when inject was called.
   */
  activeAt?: number;
}

/** The harness's own client processes, by workload: what a `client` fault acts on. */
export type ClientProcesses = ReadonlyMap<string, { kill(): void }>;

/** A scenario's mesh as a fault sees it: the edge it is on, and the policy istiod would push. */
export interface MeshControl {
  readonly edge: string;
  /** Returns once the server's sidecar runs the mode; the text says what changed, for the fault's note. */
  setPeerAuthentication(mode: 'PERMISSIVE' | 'STRICT'): Promise<string>;
  /** Returns once the client's sidecar runs the h2UpgradePolicy; the text says what changed. */
  setH2Upgrade(upgrade: boolean): Promise<string>;
  /** Returns once the client's sidecar refuses connections; `up` starts it again and waits until it is ready. */
  clientSidecarDown(): Promise<{ note: string; up: () => Promise<void> }>;
}

/** What a scenario has running besides the stack, for the faults that act on it. */
export interface FaultScope {
  clients: ClientProcesses;
  mesh?: MeshControl;
}

export interface FaultModule {
  type: FaultType;
  /** Edge faults act on a Toxiproxy proxy; process faults on a stack process; client faults on a workload's client. */
  on: 'edge' | 'process' | 'client';
  /** Process faults that only make sense on some processes (a connection limit is PostgreSQL's). */
  targets?: readonly string[];
  /** Targets the fault exists on (a container's memory limit has no meaning for a local process); absent: every target. */
  onlyOn?: readonly TargetName[];
  description: string;
  /**
   * A process fault that leaves the running process alone and acts on what a new start needs
   * (admission of a new pod): a scenario may start a process afresh under it, as under an edge fault.
   */
  actsOnNewStarts?: true;
  /** An edge fault that acts on one sidecar of the scenario's mesh on that edge. */
  needsSidecar?: 'client' | 'server';
  params: Record<string, ParamSpec>;
  /**
   * Work a fault needs before it acts that is not part of it (an overload's capacity search):
   * done before the fault window opens, so its time and its load are not judged as the fault's.
   */
  prepare?(stack: Stack, target: string, params: Record<string, number>): Promise<void>;
  /** The window opens when this is called: whatever it does takes effect inside the window. */
  inject(stack: Stack, target: string, params: Record<string, number>, scope: FaultScope): Promise<Injected>;
}

/** Where active faults are written down, so the next run can revert what a crashed one left. */
export interface FaultLog {
  add(rec: FaultRecord): void;
  remove(id: string): void;
}
