import { randomBytes } from 'node:crypto';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { ARTIFACT_BUCKET } from '../targets/local/mlflow-server.ts';
import { WEED_SERVER_OPTIONS } from '../targets/local/seaweedfs.ts';
import type { S3Credentials } from '../targets/stack.ts';
import { timeouts } from '../timeouts.ts';
import { pollUntil } from '../util/poll.ts';
import { registerSecret } from '../util/redact.ts';
import type { Watched } from '../util/wait-http.ts';
import type { KindCluster } from './cluster.ts';
import { isConflict, podFailure } from './objects.ts';

/**
 * The stack's components as Deployments in the cluster, from the image factory's images (loaded
 * into the worker, never pulled). Secrets travel in Kubernetes Secrets, not in pod specs.
 */
export const WORKLOAD_NAMESPACE = 'mlops-chaos';
/** Fixed NodePorts, so no two Services collide; the stack publishes on 127.0.0.1 only those the harness uses. */
export const NODE_PORT = { s3: 30833, mlflow: 30500, serving: 30501, kserve: 30580, postgres: 30432, toxiproxyApi: 30474, edgeBase: 30600, sidecarAdmin: 30150 } as const;

export interface ComponentSpec {
  name: string;
  image: string;
  /** Replaces the image's entrypoint; absent: the image's own. */
  command?: string[];
  /** Arguments to the entrypoint (or to `command`). */
  args?: string[];
  /** The port its readiness probe and its Service's first port use. */
  port: number;
  /** Published on 127.0.0.1 through the cluster's NodePort mapping; absent: in-cluster only. */
  nodePort?: number;
  /** More ports on its Service (Toxiproxy's edges), each published or not. */
  morePorts?: { port: number; nodePort?: number }[];
  /** Non-secret settings, in the pod spec. */
  env?: Record<string, string>;
  /** Secret settings: a Secret `<name>-env`, read with envFrom. */
  secretEnv?: Record<string, string>;
  /** Files from a Secret `<name>-files`, mounted read-only at `dir`. */
  files?: { dir: string; content: Record<string, string> };
  /** emptyDir volumes the component writes to (its image's filesystem is not its data's). */
  scratch?: string[];
  /**
   * Data that outlives the pod, as a persistent volume's does: a directory on the node (hostPath),
   * so a restart (the pod deleted and made again) finds the database where it left it.
   */
  persistent?: string;
}

export async function ensureNamespace(cluster: KindCluster, namespace: string): Promise<void> {
  await cluster.core.createNamespace({ body: { metadata: { name: namespace } } }).catch((e) => {
    if (!isConflict(e)) throw e;
  });
  await pollUntil(`the default service account in ${namespace}`, timeouts.podReady, async () => {
    const sa = await cluster.core.readNamespacedServiceAccount({ name: 'default', namespace }).catch(() => undefined);
    return sa ? { done: true, value: undefined } : { done: false };
  });
}

/** A Deployment's pods watched the way a readiness wait watches a process: rejects when one fails for good. */
export function watchDeployment(cluster: KindCluster, namespace: string, name: string): Watched & { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
    failOnExit: () =>
      new Promise<never>((_, reject) => {
        const look = async (): Promise<void> => {
          if (stopped) return;
          const pods = (await cluster.core.listNamespacedPod({ namespace, labelSelector: `app=${name}` }).catch(() => ({ items: [] as V1Pod[] }))).items;
          const why = pods.map(podFailure).find(Boolean);
          if (why) reject(new Error(`${name} does not start in the cluster: ${why}`));
          else if (!stopped) timer = setTimeout(() => void look(), timeouts.pollInterval * 4);
        };
        void look();
      }),
  };
}

/**
 * Runs one container to completion in a pod of its own (restartPolicy Never): its final phase
 * and what it printed. A harness's client inside the cluster (a curl, a probe).
 */
export async function runPod(
  cluster: KindCluster,
  namespace: string,
  name: string,
  spec: { image: string; command: string[]; nodeName?: string; labels?: Record<string, string> },
): Promise<{ phase: string; log: string }> {
  await cluster.core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, ...(spec.labels ? { labels: spec.labels } : {}) },
      spec: { restartPolicy: 'Never', ...(spec.nodeName ? { nodeName: spec.nodeName } : {}), containers: [{ name, image: spec.image, imagePullPolicy: 'Never', command: spec.command }] },
    },
  });
  const phase = await pollUntil(`pod ${namespace}/${name} to finish`, timeouts.podReady, async () => {
    const ph = (await cluster.core.readNamespacedPod({ name, namespace })).status?.phase;
    return ph === 'Succeeded' || ph === 'Failed' ? { done: true, value: ph } : { done: false, note: ph };
  });
  return { phase, log: await cluster.core.readNamespacedPodLog({ name, namespace }) };
}

/** Every address a Service's EndpointSlices list now, each with whether it is marked ready. */
export async function serviceEndpoints(cluster: KindCluster, namespace: string, service: string): Promise<{ address: string; ready: boolean }[]> {
  const slices = (await cluster.discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` })).items;
  return slices.flatMap((sl) => sl.endpoints ?? []).flatMap((e) => e.addresses.map((address) => ({ address, ready: e.conditions?.ready === true })));
}

export async function deployComponent(cluster: KindCluster, namespace: string, spec: ComponentSpec): Promise<void> {
  const labels = { app: spec.name, 'app.kubernetes.io/managed-by': 'mlops-chaos' };
  const container: V1Container = {
    name: spec.name,
    image: spec.image,
    imagePullPolicy: 'Never',
    ...(spec.command ? { command: spec.command } : {}),
    ...(spec.args ? { args: spec.args } : {}),
    ports: [{ containerPort: spec.port }],
    env: Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value })),
    readinessProbe: { tcpSocket: { port: spec.port }, periodSeconds: 1 },
    volumeMounts: [],
  };
  const volumes: { name: string; secret?: { secretName: string; defaultMode: number }; emptyDir?: object; hostPath?: { path: string; type: string } }[] = [];
  if (spec.persistent) {
    volumes.push({ name: 'data', hostPath: { path: `/var/lib/mlops-chaos/${namespace}/${spec.name}`, type: 'DirectoryOrCreate' } });
    container.volumeMounts!.push({ name: 'data', mountPath: spec.persistent });
  }
  if (spec.secretEnv) {
    await cluster.core.createNamespacedSecret({ namespace, body: { metadata: { name: `${spec.name}-env`, labels }, stringData: spec.secretEnv } });
    container.envFrom = [{ secretRef: { name: `${spec.name}-env` } }];
  }
  if (spec.files) {
    await cluster.core.createNamespacedSecret({ namespace, body: { metadata: { name: `${spec.name}-files`, labels }, stringData: spec.files.content } });
    volumes.push({ name: 'files', secret: { secretName: `${spec.name}-files`, defaultMode: 0o400 } });
    container.volumeMounts!.push({ name: 'files', mountPath: spec.files.dir, readOnly: true });
  }
  for (const [i, dir] of (spec.scratch ?? []).entries()) {
    volumes.push({ name: `scratch-${i}`, emptyDir: {} });
    container.volumeMounts!.push({ name: `scratch-${i}`, mountPath: dir });
  }
  await cluster.apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: spec.name, labels },
      spec: { replicas: 1, selector: { matchLabels: { app: spec.name } }, template: { metadata: { labels }, spec: { containers: [container], volumes, terminationGracePeriodSeconds: 5 } } },
    },
  });
  const ports = [{ port: spec.port, nodePort: spec.nodePort }, ...(spec.morePorts ?? [])];
  // A NodePort Service gets a node port for every port; one left to the API server would be a
  // random one that a fixed port of another Service, created later, might then collide with.
  if (ports.some((p) => p.nodePort) && ports.some((p) => !p.nodePort)) throw new Error(`${spec.name}: either every port of its Service has a nodePort or none has`);
  await cluster.core.createNamespacedService({
    namespace,
    body: {
      metadata: { name: spec.name, labels },
      spec: {
        selector: { app: spec.name },
        type: ports.some((p) => p.nodePort) ? 'NodePort' : 'ClusterIP',
        ports: ports.map((p) => ({ name: `p${p.port}`, port: p.port, targetPort: p.port, ...(p.nodePort ? { nodePort: p.nodePort } : {}) })),
      },
    },
  });
}

export function s3Credentials(): S3Credentials {
  return { accessKeyId: registerSecret(`chaos${randomBytes(8).toString('hex')}`), secretAccessKey: registerSecret(randomBytes(24).toString('base64url')) };
}

/** SeaweedFS with the S3 gateway, as the docker target runs it; its data on the node, kept across restarts. */
export function seaweedfsSpec(image: string, credentials: S3Credentials): ComponentSpec {
  const s3Config = JSON.stringify({ identities: [{ name: 'chaos', credentials: [{ accessKey: credentials.accessKeyId, secretKey: credentials.secretAccessKey }], actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'] }] });
  return {
    name: 'seaweedfs', image, port: 8333, nodePort: NODE_PORT.s3,
    command: ['weed', 'server', '-dir=/data', '-ip=127.0.0.1', '-ip.bind=0.0.0.0', '-s3', '-s3.port=8333', '-s3.config=/etc/seaweedfs/s3.json',
      ...WEED_SERVER_OPTIONS],
    env: { HOME: '/data' },
    files: { dir: '/etc/seaweedfs', content: { 's3.json': s3Config } },
    persistent: '/data',
  };
}

/** Where the tracking server keeps runs and artifacts, and the secrets that reach them. */
export interface MlflowBackends {
  /** SQLAlchemy URI of its backend store (no password in it: PGPASSWORD goes in `secretEnv`). */
  backendStoreUri: string;
  /** The S3 endpoint it proxies artifacts to. */
  s3Url: string;
  secretEnv: Record<string, string>;
  /** Host names (with `:*`) it is reached by inside the cluster, beyond its own Service. */
  allowedHosts?: string[];
}

/** The tracking server's port in its pod. */
export const MLFLOW_PORT = 5000;

/** The MLflow tracking server with proxied artifacts in the object store, as the docker target runs it. */
export function mlflowSpec(image: string, namespace: string, backends: MlflowBackends): ComponentSpec {
  return {
    name: 'mlflow', image, port: MLFLOW_PORT, nodePort: NODE_PORT.mlflow,
    command: ['mlflow', 'server', '--backend-store-uri', backends.backendStoreUri, '--artifacts-destination', `s3://${ARTIFACT_BUCKET}`, '--host', '0.0.0.0', '--port', String(MLFLOW_PORT), '--workers', '2'],
    env: {
      HOME: '/tmp',
      MLFLOW_S3_ENDPOINT_URL: backends.s3Url,
      AWS_DEFAULT_REGION: 'us-east-1',
      PGCONNECT_TIMEOUT: '10',
      // MLflow 3's host-header check: reached as 127.0.0.1:<published port> from this machine and by Service names inside.
      MLFLOW_SERVER_ALLOWED_HOSTS: ['localhost', 'localhost:*', '127.0.0.1', '127.0.0.1:*', `mlflow.${namespace}.svc:*`, ...(backends.allowedHosts ?? [])].join(','),
      MLFLOW_ENABLE_TELEMETRY: 'false',
      // MLflow 3's job runner (a huey consumer for online scoring and trace archival) starts beside the
      // server's workers and more than doubles every (re)start on 2 cores (19.3 s against 8.1 s,
      // measured 2026-11-30); no capability under test uses it.
      MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
      DO_NOT_TRACK: 'true',
    },
    secretEnv: backends.secretEnv,
    scratch: ['/var/lib/mlflow', '/tmp'],
  };
}

/** PostgreSQL from the factory's image, with the docker target's settings; its data in an emptyDir (the pod's life). */
export function postgresSpec(image: string, env: { user: string; password: string; database: string; maxConnections: number }): ComponentSpec {
  return {
    name: 'postgres', image, port: 5432, nodePort: NODE_PORT.postgres,
    args: ['postgres', '-c', `max_connections=${env.maxConnections}`, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'shared_buffers=64MB'],
    env: { POSTGRES_USER: env.user, POSTGRES_DB: env.database },
    secretEnv: { POSTGRES_PASSWORD: env.password },
    persistent: '/var/lib/postgresql',
  };
}

/** Toxiproxy, its API and one port per edge (8666 + the edge's index, as on docker); every port has a fixed NodePort, only some are published. */
export function toxiproxySpec(image: string, edgePorts: number[]): ComponentSpec {
  return {
    name: 'toxiproxy', image, port: 8474, nodePort: NODE_PORT.toxiproxyApi,
    command: ['toxiproxy-server', '-host', '0.0.0.0', '-port', '8474'],
    morePorts: edgePorts.map((port, i) => ({ port, nodePort: NODE_PORT.edgeBase + i })),
  };
}

/** `mlflow models serve` of the reference model, its registry calls through `trackingUrl` (an edge). */
export function servingSpec(image: string, modelUri: string, env: Record<string, string>, secretEnv: Record<string, string>): ComponentSpec {
  return {
    name: 'mlflow-serving', image, port: 5001, nodePort: NODE_PORT.serving,
    command: ['mlflow', 'models', 'serve', '-m', modelUri, '--env-manager', 'local', '-h', '0.0.0.0', '-p', '5001', '--workers', '1'],
    env: { ...env, HOME: '/tmp', PATH: '/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
    secretEnv,
    scratch: ['/tmp'],
  };
}
