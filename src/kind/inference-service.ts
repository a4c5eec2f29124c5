import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import type { S3Credentials } from '../targets/stack.ts';
import { timeouts } from '../timeouts.ts';
import { pollUntil } from '../util/poll.ts';
import type { KindCluster } from './cluster.ts';
import { podFailure } from './objects.ts';

/**
 * The reference model as KServe serves it in a cluster: a ServingRuntime running the suite's
 * ModelServer (the xgbserver runtime is not on PyPI), and an InferenceService whose storage URI is
 * in the object store, so KServe's own storage initializer fetches the model into the pod.
 */
export type Conditioned = KubernetesObject & { status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[]; url?: string } };

const RUNTIME_NAME = 'mlops-chaos-xgboost';
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
        args: ['--model-name={{.Name}}', '--storage-uri=/mnt/models', '--model-dir=/tmp/model', '--http-port=8080', '--host=0.0.0.0'],
        ports: [{ containerPort: 8080, protocol: 'TCP' }],
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

/** The predictor's pods, by the label KServe puts on them. */
export const predictorSelector = (name: string) => `serving.kserve.io/inferenceservice=${name}`;
