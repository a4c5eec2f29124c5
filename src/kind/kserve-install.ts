import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesObjectApi, loadYaml, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { kindCacheDir } from '../paths.ts';
import { timeouts } from '../timeouts.ts';
import { pollUntil } from '../util/poll.ts';
import type { Progress } from '../util/progress.ts';
import type { KindCluster } from './cluster.ts';
import { isConflict, podFailure } from './objects.ts';
import { readEnv } from './toolchain.ts';
import { ensureNamespace } from './workloads.ts';

/**
 * Installs the real KServe controller from its own release manifest (install/<version>/kserve.yaml
 * in the Go module it was built from), changed only where this machine requires:
 *   - images: the controller and storage initializer images/kind/build-kserve-images.sh built;
 *   - no cert-manager (it has no image here): a self-signed webhook certificate made now, in the
 *     Secret its Certificate would have filled, and its CA in every webhook's caBundle;
 *   - Standard deployment mode (no Knative, no Istio) and no Ingress (no ingress controller);
 *   - the kube-rbac-proxy sidecar (metrics only, its image cannot be had) is left out, as are
 *     the LLM and local-model controllers, which an InferenceService does not use.
 */
export const KSERVE_NAMESPACE = 'kserve';

export interface KserveImages {
  version: string;
  controller: string;
  storageInitializer: string;
  manifest: string;
}

export function kserveImages(): KserveImages | { missing: string } {
  const file = join(kindCacheDir, 'kserve-images.env');
  if (!existsSync(file)) return { missing: `the KServe images for kind are not built (no ${file}): run 'npm run images -- kind'` };
  const env = readEnv(file);
  if (!env.KSERVE_MANIFEST || !existsSync(env.KSERVE_MANIFEST)) return { missing: `KServe's manifest ${env.KSERVE_MANIFEST ?? '(unnamed)'} is not in the Go module cache: run 'npm run images -- kind'` };
  return { version: env.KSERVE_VERSION ?? '?', controller: env.KSERVE_CONTROLLER_IMAGE ?? '', storageInitializer: env.KSERVE_STORAGE_INITIALIZER_IMAGE ?? '', manifest: env.KSERVE_MANIFEST };
}

type Obj = KubernetesObject & { spec?: any; data?: Record<string, string>; webhooks?: { clientConfig: { caBundle?: string } }[]; stringData?: Record<string, string>; type?: string };

const LEFT_OUT = /llmisvc|localmodel/;
const WEBHOOK_SERVICE = 'kserve-webhook-server-service';

/** The manifest's objects as this cluster runs them (pure: unit-tested). */
export function kserveObjects(manifestText: string, images: Pick<KserveImages, 'controller' | 'storageInitializer'>, caBundle: string): Obj[] {
  const out: Obj[] = [];
  for (const doc of parseAllDocuments(manifestText)) {
    const o = doc.toJS() as Obj | null;
    if (!o?.kind) continue;
    const name = o.metadata?.name ?? '';
    if (o.kind === 'Certificate' || o.kind === 'Issuer' || o.kind === 'DaemonSet') continue;
    if (o.kind !== 'CustomResourceDefinition' && LEFT_OUT.test(name)) continue;
    if (o.kind === 'Deployment' && name === 'kserve-controller-manager') {
      const pod = o.spec.template.spec;
      pod.containers = pod.containers.filter((c: { name: string }) => c.name === 'manager');
      pod.containers[0].image = images.controller;
      pod.containers[0].imagePullPolicy = 'IfNotPresent';
    }
    if (o.kind === 'ConfigMap' && name === 'inferenceservice-config' && o.data) {
      o.data.deploy = JSON.stringify({ defaultDeploymentMode: 'Standard' });
      o.data.ingress = JSON.stringify({ ...JSON.parse(o.data.ingress ?? '{}'), disableIngressCreation: true });
      o.data.storageInitializer = JSON.stringify({ ...JSON.parse(o.data.storageInitializer ?? '{}'), image: images.storageInitializer });
    }
    if (o.kind === 'ClusterStorageContainer') o.spec.container.image = images.storageInitializer;
    if (o.kind === 'MutatingWebhookConfiguration' || o.kind === 'ValidatingWebhookConfiguration') {
      if (o.metadata?.annotations) delete o.metadata.annotations['cert-manager.io/inject-ca-from'];
      for (const w of o.webhooks ?? []) w.clientConfig.caBundle = caBundle;
    }
    delete (o.metadata as { creationTimestamp?: unknown } | undefined)?.creationTimestamp;
    out.push(o);
  }
  return out;
}

/** A CA and a webhook serving certificate signed by it, made with openssl; nothing is kept on disk. */
function webhookCertificate(): { ca: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-chaos-kserve-cert-'));
  try {
    const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    const dns = `${WEBHOOK_SERVICE}.${KSERVE_NAMESPACE}.svc`;
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=mlops-chaos kserve webhook CA']);
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', `/CN=${dns}`]);
    writeFileSync(join(dir, 'san.ext'), `subjectAltName=DNS:${dns},DNS:${dns}.cluster.local\n`);
    run(['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'tls.crt', '-days', '2', '-extfile', 'san.ext']);
    return { ca: readFileSync(join(dir, 'ca.crt'), 'utf8'), cert: readFileSync(join(dir, 'tls.crt'), 'utf8'), key: readFileSync(join(dir, 'tls.key'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function installKserve(cluster: KindCluster, images: KserveImages, say: Progress): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(cluster.kc);
  const tls = webhookCertificate();
  const objects = kserveObjects(readFileSync(images.manifest, 'utf8'), images, Buffer.from(tls.ca).toString('base64'));
  await ensureNamespace(cluster, KSERVE_NAMESPACE);
  // CRDs first, and established, before anything of their kinds is created.
  const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
  // Through the client's typed model: its serializer knows a CRD's `x-kubernetes-*` schema keys
  // only by their model names, and silently drops them from a plain object.
  for (const o of crds) await api.create(loadYaml<KubernetesObject>(stringify(o))).catch((e) => { if (!isConflict(e)) throw e; });
  await pollUntil(`KServe's ${crds.length} CRDs to be established`, timeouts.podReady, async () => {
    const list = (await api.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition')).items as Obj[];
    const established = new Set(list.filter((c) => (c as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')).map((c) => c.metadata?.name));
    const waiting = crds.filter((c) => !established.has(c.metadata?.name));
    return waiting.length ? { done: false, note: `${waiting.length} not yet` } : { done: true, value: undefined };
  });
  await cluster.core.createNamespacedSecret({
    namespace: KSERVE_NAMESPACE,
    body: { metadata: { name: 'kserve-webhook-server-cert' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': tls.cert, 'tls.key': tls.key, 'ca.crt': tls.ca } },
  });
  for (const o of objects.filter((x) => x.kind !== 'CustomResourceDefinition')) {
    await api.create(o).catch((e) => { if (!isConflict(e)) throw new Error(`creating KServe's ${o.kind} ${o.metadata?.name}: ${(e as Error).message}`); });
  }
  say(`KServe ${images.version}: ${objects.length} objects created (CRDs, RBAC, webhooks with a self-signed CA, controller)`);
  await pollUntil('the KServe controller to be available', timeouts.kserveControllerReady, async () => {
    const d = await cluster.apps.readNamespacedDeployment({ name: 'kserve-controller-manager', namespace: KSERVE_NAMESPACE });
    const pods = (await cluster.core.listNamespacedPod({ namespace: KSERVE_NAMESPACE, labelSelector: 'control-plane=kserve-controller-manager' })).items;
    const why = pods.map(podFailure).find(Boolean);
    if (why) throw new Error(`the KServe controller does not start: ${why}`);
    return (d.status?.availableReplicas ?? 0) >= 1 ? { done: true, value: undefined } : { done: false, note: 'not available' };
  });
  // Available is not admitting: until kube-proxy on the API server's node routes the webhook's
  // Service, every KServe object is refused. A dry-run create goes through the same webhook.
  await pollUntil("KServe's admission webhooks to answer", timeouts.podReady, async () => {
    try {
      await api.create(
        { apiVersion: 'serving.kserve.io/v1alpha1', kind: 'ServingRuntime', metadata: { name: 'webhook-probe', namespace: KSERVE_NAMESPACE }, spec: { supportedModelFormats: [{ name: 'probe' }], containers: [{ name: 'kserve-container', image: images.controller }] } } as KubernetesObject,
        undefined,
        'All',
      );
      return { done: true, value: undefined };
    } catch (e) {
      const msg = String((e as { body?: unknown }).body ?? (e as Error).message);
      if (/failed calling webhook/.test(msg)) return { done: false, note: msg.slice(0, 300) };
      throw e;
    }
  });
  say('KServe controller available, its webhooks answering');
}
