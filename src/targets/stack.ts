import type { FaultLog } from '../faults/types.ts';
import type { ToxiproxyClient } from '../toxiproxy.ts';
import type { VenvOverrides } from './venv-overrides.ts';

/**
 * The shape every target exposes. Scenarios, faults and probes see only this: they never
 * know whether the stack runs as local processes or in a kind cluster.
 */

/** Dependency links that pass through a Toxiproxy proxy, named `from->to` (DESIGN.md §1). */
export const EDGES = [
  'client->mlflow',
  'mlflow->postgres',
  'mlflow->s3',
  'client->mlflow-serving',
  'mlflow-serving->mlflow',
  'client->kserve',
  'kserve->s3',
  'kfp->mlflow',
  'kfp->s3',
] as const;
export type EdgeName = (typeof EDGES)[number];

export function isEdgeName(s: string): s is EdgeName {
  return (EDGES as readonly string[]).includes(s);
}

export interface Edge {
  name: EdgeName;
  /** The Toxiproxy proxy's name (edge names contain `>`, which the API path would not like). */
  proxy: string;
  /** host:port the dependent side connects to. */
  listen: string;
  /** host:port of the real dependency. */
  upstream: string;
}

export const PROCESSES = ['postgres', 'seaweedfs', 'toxiproxy', 'mlflow', 'mlflow-serving', 'kserve'] as const;
export type ProcessName = (typeof PROCESSES)[number];

export function isProcessName(s: string): s is ProcessName {
  return (PROCESSES as readonly string[]).includes(s);
}

/** URLs as a client sees them: every one passes through its edge, but `mlflowDirect`. */
export interface Endpoints {
  mlflow: string;
  mlflowServing: string;
  kserve: string;
  /** MLflow and S3 as the KFP pipeline's tasks reach them (the kfp-> edges). */
  kfpMlflow: string;
  kfpS3: string;
  /** MLflow with no edge in between: the harness's own reads (the ledger), never a probe's. */
  mlflowDirect: string;
}

export interface ReferenceModel {
  modelName: string;
  version: string;
  alias: string;
  runId: string;
  modelUri: string;
  /** Where the model's files are in the object store, e.g. s3://mlflow/1/models/m-…/artifacts */
  s3Uri: string;
  modelFile: string;
  golden: { columns: string[]; inputs: number[][]; outputs: number[] };
}

/** A stack process as faults see it: signal it, or kill it and bring it back. */
export interface StackProcess {
  readonly name: ProcessName;
  readonly pid: number;
  readonly startTime: number;
  /** A process target signals it; a container target kills its container or freezes its cgroup. */
  signal(sig: 'SIGSTOP' | 'SIGCONT' | 'SIGKILL'): Promise<void>;
  /** Stops it if it runs, starts it again (with `env` added, for this start only) and waits until it is ready. */
  restart(env?: Record<string, string>): Promise<void>;
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface ObjectStore {
  /** Direct URL, for the harness's own checks; never through an edge. */
  url: string;
  credentials: S3Credentials;
  artifactBucket: string;
  pipelineBucket: string;
  /** Sets (MiB) or removes (null) a bucket quota and enforces it: over quota, the bucket refuses writes. */
  setQuota(bucket: string, sizeMB: number | null): Promise<void>;
}

/** Admin access to the tracking server's database, for resource faults (direct, not through the edge). */
export interface DatabaseAdmin {
  port: number;
  user: string;
  /** Secret: registered for redaction. */
  password: string;
  database: string;
  maxConnections: number;
}

/** Where a stack runs (DESIGN.md §1); results and reports carry it. */
export type TargetName = 'local' | 'docker' | 'kind';

/** A container's state as the engine reports it: what a container fault checks it really acted. */
export interface ContainerState {
  running: boolean;
  paused: boolean;
  oomKilled: boolean;
  exitCode: number;
  /** Memory limit in bytes (0: none) and CPU quota in cores (0: none). */
  memoryBytes: number;
  cpus: number;
  /** Networks it is attached to. */
  networks: string[];
}

/** What only a container target can do to a component (its cgroup, its network attachment, its clock). */
export interface ContainerControl {
  state(name: ProcessName): Promise<ContainerState>;
  /** Memory in bytes (swap included: no swap to hide in) and CPU in cores; `null` removes the limit. */
  setLimits(name: ProcessName, limits: { memoryBytes?: number | null; cpus?: number | null }): Promise<void>;
  /** Memory the container's cgroup uses now, in bytes. */
  memoryUsage(name: ProcessName): Promise<number>;
  /** Detaches it from the stack's network (every peer loses it), or attaches it again under its name. */
  disconnect(name: ProcessName): Promise<void>;
  connect(name: ProcessName): Promise<void>;
  /** Runs a command inside it; returns stdout. */
  exec(name: ProcessName, command: string[]): Promise<string>;
  /** Its size-limited data filesystem, as a path inside the container, or why it has none. */
  dataFs(name: ProcessName): { path: string; sizeMB: number } | { unavailable: string };
  /** Starts it afresh if it is not running (as a restart policy would) and waits until it is ready. */
  ensureRunning(name: ProcessName): Promise<boolean>;
}

/** What only a Kubernetes target can do to a component: admission of its pods, and their lifecycle. */
export interface KubernetesControl {
  /** A ResourceQuota on the stack's namespace that admits no new pod (running ones keep running), set `below` the pods there now. */
  blockNewPods(below: number): Promise<{ undo: () => Promise<void>; note: string }>;
  /** Deletes the component's pod at once (grace 0), as a lost node or an eviction would; the revert waits until its replacement is ready. */
  deletePod(name: ProcessName): Promise<{ undo: () => Promise<void>; note: string }>;
  /** Rolls out a revision of the component (KServe's InferenceService) whose pod never starts; resolves once one is seen failing. Undo restores the revision. */
  rollOutBroken(name: ProcessName): Promise<{ undo: () => Promise<void>; note: string }>;
  /**
   * Freezes the node the component's pod runs on (every pod there stops; nothing tells the API
   * server until the node's lease runs out). The revert thaws it and waits until the node and
   * every component are ready again; the note says when the API server noticed.
   */
  freezeNode(name: ProcessName): Promise<{ undo: () => Promise<void>; note: string }>;
  /**
   * Puts the component (KServe's predictor) under a HorizontalPodAutoscaler on CPU, with
   * metrics-server installed if the cluster has none yet, and returns once the autoscaler reads a
   * usage. Until `stop` it is sampled once a second; `stop` takes it away (one replica again) and
   * returns the samples.
   */
  autoscale(spec: AutoscaleSpec): Promise<ActiveAutoscaler>;
  /**
   * A NetworkPolicy on the component's pods that admits no new connection, or with `admitEdge`
   * only those from the edge's side (Toxiproxy's pod, the control: the engine judges every
   * connection and lets these through). The policy engine is installed the first time. Resolves
   * once a new connection through the client's edge is seen cut (or answered, with `admitEdge`),
   * at `activeAt`; undo deletes the policy and waits until one is answered.
   */
  restrictIngress(name: ProcessName, admitEdge: boolean): Promise<{ undo: () => Promise<void>; note: string; activeAt: number }>;
}

/** An autoscaler as a scenario asks for it (`autoscale:`). */
export interface AutoscaleSpec {
  /** The component whose platform makes the autoscaler (KServe's InferenceService). */
  component: ProcessName;
  maxReplicas: number;
  /** The CPU request of each replica, millicores: what utilization is a percentage of. */
  cpuRequestMilli: number;
  /** Average utilization (% of the request) the autoscaler holds the replicas at. */
  cpuTargetPercent: number;
  /** What the scenario expects of the replica the autoscaler adds (AutoscaleOutcome); absent: nothing, the report only. */
  expect?: 'serving' | 'starved';
}

/** One look at an autoscaler and the pods it scales. */
export interface AutoscaleSample {
  at: number;
  /** The replicas the autoscaler wants, and those it has. */
  desired: number;
  current: number;
  /** The average utilization it read (% of the request), when it has read one. */
  cpuPercent?: number;
  /** Pods ready now, by name. */
  ready: string[];
  /** Predictions each ready pod has answered since it started (its own counter, read from the pod). */
  served: Record<string, number>;
}

export interface ActiveAutoscaler {
  /** The pods that served before the autoscaler could add any. */
  initialPods: string[];
  note: string;
  stop(): Promise<AutoscaleSample[]>;
}

/** A process beside the stack that is not one of its components (a mesh's sidecar). */
export interface SidecarProcess {
  /** Rejects when the process exits; a readiness wait races it. */
  failOnExit(): Promise<never>;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/** The Envoy builds a sidecar can run: set-up's venvs (a process) and the images made from them (a container). */
export type EnvoyBuild = 'envoy-1.36' | 'envoy-1.38';

/** Where one sidecar runs: what its config binds, how the stack and the harness reach it, and how it starts. */
export interface SidecarPlacement {
  /** Addresses its config binds: the listener and the admin. */
  listen: { host: string; port: number };
  admin: { host: string; port: number };
  /** host:port an edge's Toxiproxy connects to, to reach the listener. */
  reachableAt: string;
  /** The admin's base URL from this machine (readiness, config dumps). */
  adminUrl: string;
  /** Where the server is from the sidecar, when not the edge's upstream: a sidecar in the server's pod reaches it on localhost. */
  server?: { host: string; port: number };
  /** Starts Envoy with `args`; `dirs` are the directories its config names, readable to it at the same paths. */
  start(envoy: EnvoyBuild, args: string[], dirs: string[]): Promise<SidecarProcess>;
}

/**
 * Where sidecars run. Beside the client: the harness's clients run on this machine, so a process
 * here on loopback. Beside a server: where the edge ends, as the server's own sidecar would be (a
 * process on loopback on local, a container on the stack's network on docker). Either way it is
 * recorded with the stack, so the reaper ends it after a crashed runner and teardown after any
 * other end.
 */
export interface SidecarHost {
  /** A fresh directory for one sidecar's files, removed with the stack. */
  dir(name: string): string;
  besideClient(name: string): Promise<SidecarPlacement>;
  /** Beside `server`, the process at the edge's far end. */
  besideServer(name: string, server: ProcessName): Promise<SidecarPlacement>;
}

export interface Stack extends AsyncDisposable {
  readonly target: TargetName;
  readonly id: string;
  readonly endpoints: Endpoints;
  readonly edges: Record<EdgeName, Edge>;
  readonly toxiproxy: ToxiproxyClient;
  readonly reference: ReferenceModel;
  readonly versions: Record<string, string>;
  readonly objectStore: ObjectStore;
  readonly postgres: DatabaseAdmin;
  /** Active faults are written here so the next run can revert what a crashed one left. */
  readonly faultLog: FaultLog;
  /**
   * Environment an MLflow client on this machine needs to use the stack, beyond its URL (docker:
   * proxied artifact downloads, since the object store's address inside the stack means nothing
   * outside it). Empty on local.
   */
  readonly clientEnv: Readonly<Record<string, string>>;
  process(name: ProcessName): StackProcess;
  /** The venvs that replace set-up's for some roles (an upgrade run's side); absent: set-up's everywhere. */
  readonly venvs?: VenvOverrides;
  /** Present on container targets only; container faults need it. */
  readonly containers?: ContainerControl;
  /** Present on Kubernetes targets only; Kubernetes faults need it. */
  readonly kubernetes?: KubernetesControl;
  /** Present where a mesh can be put on an edge (local, docker, kind); absent: mesh scenarios do not run there. */
  readonly sidecars?: SidecarHost;
}
