import { KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import type { S3Credentials } from '../targets/stack.ts';
import { timeouts } from '../timeouts.ts';
import { pollUntil } from '../util/poll.ts';
import type { KindCluster } from './cluster.ts';
import { isPodReady, labelSelector, podFailure } from './objects.ts';
import { serviceEndpoints } from './workloads.ts';

/**
 * The reference model as KServe serves it in a cluster: a ServingRuntime running the suite's
 * ModelServer (the xgbserver runtime is not on PyPI), and an InferenceService whose storage URI is
 * in the object store, so KServe's own storage initializer fetches the model into the pod.
 */
export type Conditioned = KubernetesObject & { status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[]; url?: string } };

const RUNTIME_NAME = 'mlops-chaos-xgboost';
/** The ModelServer's port in the predictor pod. */
export const PREDICTOR_PORT = 8080;
const S3_READER = 's3-reader';

export interface InferenceServiceSpec {
  name: string;
  namespace: string;
  /** The factory's kserve image: the ModelServer and its packages. */
  image: string;
  storageUri: string;
  /** host:port of the S3 endpoint the storage initializer reads from. */
  s3Endpoint: string;
  credentials: S3Credentials;
}

export const isvcRef = (name: string, namespace: string) => ({ apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name, namespace } });

/** Creates the S3 credentials (a Secret annotated for KServe's credential builder, on a service account), the runtime and the InferenceService. */
export async function createInferenceService(cluster: KindCluster, spec: InferenceServiceSpec): Promise<void> {
  const { namespace } = spec;
  await cluster.core.createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: S3_READER, annotations: { 'serving.kserve.io/s3-endpoint': spec.s3Endpoint, 'serving.kserve.io/s3-usehttps': '0', 'serving.kserve.io/s3-region': 'us-east-1' } },
      stringData: { AWS_ACCESS_KEY_ID: spec.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: spec.credentials.secretAccessKey },
    },
  });
  await cluster.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: S3_READER }, secrets: [{ name: S3_READER }] } });
  const api = KubernetesObjectApi.makeApiClient(cluster.kc);
  await api.create({
    apiVersion: 'serving.kserve.io/v1alpha1',
    kind: 'ServingRuntime',
    metadata: { name: RUNTIME_NAME, namespace },
    spec: {
      supportedModelFormats: [{ name: 'xgboost', autoSelect: true }],
      protocolVersions: ['v1', 'v2'],
      containers: [{
        name: 'kserve-container',
        image: spec.image,
        imagePullPolicy: 'Never',
        // The storage initializer put the model in /mnt/models; the server copies it to its own dir.
        command: ['python', '/opt/workloads/kserve/model_server.py'],
        args: ['--model-name={{.Name}}', '--storage-uri=/mnt/models', '--model-dir=/tmp/model', `--http-port=${PREDICTOR_PORT}`, '--host=0.0.0.0'],
        ports: [{ containerPort: PREDICTOR_PORT, protocol: 'TCP' }],
      }],
    },
  } as KubernetesObject);
  await api.create({
    ...isvcRef(spec.name, namespace),
    spec: { predictor: { serviceAccountName: S3_READER, model: { modelFormat: { name: 'xgboost' }, runtime: RUNTIME_NAME, storageUri: spec.storageUri } } },
  } as KubernetesObject);
}

/** Waits for Ready=True; fails at once when a predictor pod cannot start (its reason quoted). */
export async function waitInferenceServiceReady(cluster: KindCluster, name: string, namespace: string): Promise<Conditioned> {
  const api = KubernetesObjectApi.makeApiClient(cluster.kc);
  return pollUntil(`InferenceService ${namespace}/${name} to be Ready`, timeouts.inferenceServiceReady, async () => {
    const o = (await api.read(isvcRef(name, namespace))) as Conditioned;
    const pods = (await cluster.core.listNamespacedPod({ namespace, labelSelector: predictorSelector(name) })).items;
    const why = pods.map(podFailure).find(Boolean);
    if (why) throw new Error(`the predictor does not start: ${why}`);
    const ready = o.status?.conditions?.find((c) => c.type === 'Ready');
    return ready?.status === 'True' ? { done: true, value: o } : { done: false, note: (o.status?.conditions ?? []).map((c) => `${c.type}=${c.status}${c.reason ? `(${c.reason})` : ''}`).join(' ') };
  });
}

/** The label KServe puts on the predictor's pods, as a Service's selector takes it. */
export const predictorLabels = (name: string) => ({ 'serving.kserve.io/inferenceservice': name });
/** The predictor's pods, as a label selector. */
export const predictorSelector = (name: string) => labelSelector(predictorLabels(name));

/**
 * Merge-patches the InferenceService's predictor (null removes a field) and returns once KServe's
 * rollout is over (rollPods, with `routedBy` defaulting to the predictor's own Service) and the
 * InferenceService is Ready again.
 */
export async function rollPredictor(cluster: KindCluster, name: string, namespace: string, predictor: Record<string, unknown>, what: string, routedBy = [`${name}-predictor`]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(cluster.kc);
  await rollPods(cluster, namespace, predictorSelector(name), `InferenceService ${namespace}/${name}`, what, routedBy, async () => {
    await api.patch({ ...isvcRef(name, namespace), spec: { predictor } } as KubernetesObject, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
  });
  await waitInferenceServiceReady(cluster, name, namespace);
}

/**
 * Makes a change that rolls out new pods (`change`) and returns once the rollout is over: every
 * live pod the selector picks is one made after the change and ready, and each Service in
 * `routedBy` routes to those pods alone (rolled out is not yet routed: a request could still go to
 * a terminating pod's address). A new pod that cannot start fails it at once.
 */
export async function rollPods(cluster: KindCluster, namespace: string, selector: string, owner: string, what: string, routedBy: string[], change: () => Promise<void>): Promise<void> {
  const list = async () => (await cluster.core.listNamespacedPod({ namespace, labelSelector: selector })).items;
  const before = new Set((await list()).map((p) => p.metadata?.name));
  await change();
  await pollUntil(`${owner} to roll out ${what}`, timeouts.podReady, async () => {
    const pods = await list();
    const fresh = pods.filter((p) => !before.has(p.metadata?.name) && !p.metadata?.deletionTimestamp);
    const why = fresh.map(podFailure).find(Boolean);
    if (why) throw new Error(`${owner}'s new pods (${what}) do not start: ${why}`);
    // A terminating old pod may take its grace period to go; what matters is that nothing routes to it.
    const old = pods.filter((p) => before.has(p.metadata?.name) && !p.metadata?.deletionTimestamp).length;
    if (!fresh.length || old || !fresh.every(isPodReady)) return { done: false, note: `${fresh.length} new pods (${fresh.filter(isPodReady).length} ready), ${old} old left` };
    const ips = fresh.map((p) => p.status?.podIP).sort().join(',');
    for (const service of routedBy) {
      const routed = (await serviceEndpoints(cluster, namespace, service)).filter((e) => e.ready).map((e) => e.address).sort().join(',');
      if (routed !== ips) return { done: false, note: `Service ${service} routes to ${routed || 'nothing'}, the new pods are ${ips}` };
    }
    return { done: true, value: undefined };
  });
}
