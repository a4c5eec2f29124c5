import { randomBytes } from 'node:crypto';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { ARTIFACT_BUCKET } from '../targets/local/mlflow-server.ts';
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
export const NODE_PORT = { s3: 30833, mlflow: 30500 } as const;

export interface ComponentSpec {
  name: string;
  image: string;
  command: string[];
  port: number;
  /** Published on 127.0.0.1 through the cluster's NodePort mapping; absent: in-cluster only. */
  nodePort?: number;
  /** Non-secret settings, in the pod spec. */
  env?: Record<string, string>;
  /** Secret settings: a Secret `<name>-env`, read with envFrom. */
  secretEnv?: Record<string, string>;
  /** Files from a Secret `<name>-files`, mounted read-only at `dir`. */
  files?: { dir: string; content: Record<string, string> };
  /** emptyDir volumes the component writes to (its image's filesystem is not its data's). */
  scratch?: string[];
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
  spec: { image: string; command: string[]; nodeName?: string },
): Promise<{ phase: string; log: string }> {
  await cluster.core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name },
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
    command: spec.command,
    ports: [{ containerPort: spec.port }],
    env: Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value })),
    readinessProbe: { tcpSocket: { port: spec.port }, periodSeconds: 1 },
    volumeMounts: [],
  };
  const volumes: { name: string; secret?: { secretName: string; defaultMode: number }; emptyDir?: object }[] = [];
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
  await cluster.core.createNamespacedService({
    namespace,
    body: {
      metadata: { name: spec.name, labels },
      spec: { selector: { app: spec.name }, type: spec.nodePort ? 'NodePort' : 'ClusterIP', ports: [{ port: spec.port, targetPort: spec.port, ...(spec.nodePort ? { nodePort: spec.nodePort } : {}) }] },
    },
  });
}

export function s3Credentials(): S3Credentials {
  return { accessKeyId: registerSecret(`chaos${randomBytes(8).toString('hex')}`), secretAccessKey: registerSecret(randomBytes(24).toString('base64url')) };
}

/** SeaweedFS with the S3 gateway, as the docker target runs it; its data in an emptyDir. */
export function seaweedfsSpec(image: string, credentials: S3Credentials): ComponentSpec {
  const s3Config = JSON.stringify({ identities: [{ name: 'chaos', credentials: [{ accessKey: credentials.accessKeyId, secretKey: credentials.secretAccessKey }], actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'] }] });
  return {
    name: 'seaweedfs', image, port: 8333, nodePort: NODE_PORT.s3,
    command: ['weed', 'server', '-dir=/data', '-ip=127.0.0.1', '-ip.bind=0.0.0.0', '-s3', '-s3.port=8333', '-s3.config=/etc/seaweedfs/s3.json',
      '-s3.port.iceberg=0', '-s3.port.lance=0', '-master.volumeSizeLimitMB=64', '-volume.max=32', '-master.telemetry=false'],
    env: { HOME: '/data' },
    files: { dir: '/etc/seaweedfs', content: { 's3.json': s3Config } },
    scratch: ['/data'],
  };
}

/**
 * The MLflow tracking server with proxied artifacts in SeaweedFS. Its backend store is SQLite in
 * an emptyDir: PostgreSQL and the Toxiproxy edges join it when the kind target runs scenarios.
 */
export function mlflowSpec(image: string, namespace: string, credentials: S3Credentials): ComponentSpec {
  return {
    name: 'mlflow', image, port: 5000, nodePort: NODE_PORT.mlflow,
    command: ['mlflow', 'server', '--backend-store-uri', 'sqlite:////var/lib/mlflow/mlflow.db', '--artifacts-destination', `s3://${ARTIFACT_BUCKET}`, '--host', '0.0.0.0', '--port', '5000', '--workers', '2'],
    env: {
      HOME: '/tmp',
      MLFLOW_S3_ENDPOINT_URL: `http://seaweedfs.${namespace}.svc:8333`,
      AWS_DEFAULT_REGION: 'us-east-1',
      // Reached as 127.0.0.1:<published port> from this machine and by its Service name inside.
      MLFLOW_SERVER_ALLOWED_HOSTS: `localhost,localhost:*,127.0.0.1,127.0.0.1:*,mlflow.${namespace}.svc:*`,
      MLFLOW_ENABLE_TELEMETRY: 'false',
      DO_NOT_TRACK: 'true',
    },
    secretEnv: { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey },
    scratch: ['/var/lib/mlflow', '/tmp'],
  };
}
