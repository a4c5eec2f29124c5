/**
 * Every deadline the suite uses, in one place. Values are milliseconds.
 * A wait that exceeds one of these fails with a message naming what it awaited and for how long.
 */
export const timeouts = {
  /** A single HTTP request from the harness (readiness checks, admin calls). */
  httpRequest: 5_000,
  /** One readiness poke at a port that may not listen yet. */
  readinessPoke: 1_000,
  /** Poll interval while waiting for a state. */
  pollInterval: 250,
  /**
   * Poll interval of an experiment's waits on its own timeline (steady state, recovery): an
   * in-memory count, so polling it often costs nothing, where waiting up to a whole pollInterval
   * past the moment it was met cost two of them a scenario (about 12 s a matrix).
   */
  timelinePoll: 50,
  toxiproxyReady: 15_000,
  postgresReady: 30_000,
  seaweedfsReady: 60_000,
  /** MLflow runs its database migrations on first start. */
  mlflowReady: 120_000,
  mlflowServingReady: 120_000,
  kserveReady: 90_000,
  /** An Envoy sidecar's admin `/ready` (it reads a static config: seconds at most). */
  sidecarReady: 20_000,
  /** A sidecar's listener taking a new LDS version from its file (Envoy watches it: well under a second). */
  meshPolicyApplied: 10_000,
  /**
   * A new mesh's path answering end to end once both sidecars are ready: on kind, right after the
   * server's pod was replaced, kube-proxy (syncing at most once a second) may still send a dial to
   * the old pod, where it hangs until its attempt's deadline (httpRequest) and is made again.
   */
  meshPath: 30_000,
  /** Train, log, register and alias the reference model. */
  referenceModel: 180_000,
  kfpPipeline: 240_000,
  /** One MLflow client operation issued by a test through the worker. */
  mlflowClientOp: 60_000,
  /** A Python worker asked to exit (stdin closed); after this, SIGKILL. */
  workerExit: 5_000,
  /** SIGTERM → exit; after this, SIGKILL. */
  processStop: 10_000,
  /** `allure generate` over a whole matrix's results. */
  allureReport: 120_000,
  /** Whole-stack start (worker fixture). */
  stackStart: 420_000,
  /** One docker CLI call (inspect, kill, pause, network connect, rm). */
  dockerCommand: 30_000,
  /** A container created and started (not ready: readiness has its own deadline). */
  containerStart: 60_000,
  /** `kind create cluster`: node containers started, kubeadm init and join (about 20 s here). */
  kindCreate: 300_000,
  /** From `kind create cluster` returning to every node Ready and CoreDNS available. */
  kindReady: 180_000,
  /**
   * A node still "cni plugin not initialized" this long after the pod network's config was written
   * has a containerd that missed the change (src/kind/pod-network.ts, CniWatch). Nodes here are Ready
   * 3-16 s after it, the kubelet reporting the runtime's network state every 5-10 s.
   */
  cniLoaded: 30_000,
  /** `kind delete cluster` or `kind load docker-image` of one image into every node. */
  kindCommand: 300_000,
  /** KServe's controller Deployment available (its readiness probe waits 30 s before the first check). */
  kserveControllerReady: 180_000,
  /** An InferenceService Ready: storage initializer fetch, model load, readiness. */
  inferenceServiceReady: 300_000,
  /** A frozen node marked not Ready: the node controller's grace period (50 s in 1.34) and a margin. */
  nodeNotReady: 150_000,
  /** metrics-server installed to a usage for every pod: a 20 s readiness delay, then a 15 s scrape. */
  metricsReady: 120_000,
  /**
   * A NetworkPolicy created or deleted to its engine acting on new connections: it watches the API
   * server and rewrites its nftables set of the pods it selects (about a second here).
   */
  networkPolicyApplied: 30_000,
  /** One new connection that checks whether a NetworkPolicy cut acts: no answer within this is cut. */
  networkPolicyProbe: 2_000,
  /** A pod created or replaced becomes Running and ready (its image already on the node). */
  podReady: 120_000,
  /**
   * An autoscaler at one replica before its window: up to the controller's 5 min scale-down
   * stabilization when a previous HPA of the same name had scaled up less than 5 min before.
   */
  autoscalerAtOne: 420_000,
  /** Building every component image from nothing (debootstrap and the venvs' copies included). */
  imageBuild: 1_800_000,
} as const;

export type TimeoutName = keyof typeof timeouts;
