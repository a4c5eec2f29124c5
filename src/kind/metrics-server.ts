import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { kindCacheDir } from '../paths.ts';
import { timeouts } from '../timeouts.ts';
import { pollUntil } from '../util/poll.ts';
import type { KindCluster } from './cluster.ts';
import { isConflict, podFailure } from './objects.ts';
import { readEnv } from './toolchain.ts';

/**
 * metrics-server, the resource metrics API (metrics.k8s.io) a HorizontalPodAutoscaler reads, from
 * its own manifests (manifests/base in the Go module it was built from) changed only where this
 * machine requires: the image images/kind/build-metrics-server-image.sh built, never pulled, on
 * the one node it was loaded into, and `--kubelet-insecure-tls`, as upstream's own test overlay
 * runs it on kind (a kind kubelet's serving certificate is self-signed).
 */
const NAMESPACE = 'kube-system';
const NAME = 'metrics-server';
/** kustomization.yaml's commonLabels: kustomize puts them on every object and into every selector. */
const LABELS = { 'k8s-app': NAME };
const FILES = ['rbac.yaml', 'service.yaml', 'deployment.yaml', 'apiservice.yaml'];

export interface MetricsServerImage {
  version: string;
  image: string;
  manifests: string;
}

export function metricsServerImage(): MetricsServerImage | { missing: string } {
  const file = join(kindCacheDir, 'metrics-server.env');
  if (!existsSync(file)) return { missing: `metrics-server is not built for kind (no ${file}): run 'npm run images -- kind'` };
  const env = readEnv(file);
  if (!env.METRICS_SERVER_MANIFESTS || !existsSync(join(env.METRICS_SERVER_MANIFESTS, 'deployment.yaml'))) return { missing: `metrics-server's manifests ${env.METRICS_SERVER_MANIFESTS ?? '(unnamed)'} are not in the Go module cache: run 'npm run images -- kind'` };
  return { version: env.METRICS_SERVER_VERSION ?? '?', image: env.METRICS_SERVER_IMAGE ?? '', manifests: env.METRICS_SERVER_MANIFESTS };
}

type Obj = KubernetesObject & { spec?: any };

/** The base manifests' objects as this cluster runs them (pure: unit-tested). */
export function metricsServerObjects(texts: readonly string[], image: string, node: string): Obj[] {
  const out: Obj[] = [];
  for (const text of texts) {
    for (const doc of parseAllDocuments(text)) {
      const o = doc.toJS() as Obj | null;
      if (!o?.kind) continue;
      o.metadata = { ...o.metadata, labels: { ...o.metadata?.labels, ...LABELS } };
      if (o.kind === 'Service') o.spec.selector = { ...o.spec.selector, ...LABELS };
      if (o.kind === 'Deployment') {
        o.spec.selector = { matchLabels: { ...o.spec.selector?.matchLabels, ...LABELS } };
        o.spec.template.metadata = { ...o.spec.template.metadata, labels: { ...o.spec.template.metadata?.labels, ...LABELS } };
        const pod = o.spec.template.spec;
        pod.nodeSelector = { ...pod.nodeSelector, 'kubernetes.io/hostname': node };
        const c = pod.containers[0];
        c.image = image;
        c.imagePullPolicy = 'Never';
        c.args = [...c.args, '--kubelet-insecure-tls'];
      }
      out.push(o);
    }
  }
  return out;
}

/**
 * Installs it on `node` (its image already loaded there) and returns once the metrics API answers
 * with a usage for every pod of `namespace` that runs: what an HPA needs before its first decision.
 * Creating what exists already is not an error, so a second call only waits.
 */
export async function installMetricsServer(cluster: KindCluster, img: MetricsServerImage, node: string, namespace: string): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(cluster.kc);
  const objects = metricsServerObjects(FILES.map((f) => readFileSync(join(img.manifests, f), 'utf8')), img.image, node);
  for (const o of objects) await api.create(o).catch((e) => { if (!isConflict(e)) throw new Error(`creating metrics-server's ${o.kind} ${o.metadata?.name}: ${(e as Error).message}`); });
  const metrics = cluster.kc.makeApiClient(CustomObjectsApi);
  // Its first scrape comes a metric resolution (15 s) after it starts, past a 20 s readiness delay.
  await pollUntil(`metrics-server ${img.version} to report every running pod in ${namespace}`, timeouts.metricsReady, async () => {
    const pods = (await cluster.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `k8s-app=${NAME}` })).items;
    const why = pods.map(podFailure).find(Boolean);
    if (why) throw new Error(`metrics-server does not start: ${why}`);
    const running = (await cluster.core.listNamespacedPod({ namespace, fieldSelector: 'status.phase=Running' })).items.map((p) => p.metadata!.name!);
    const got = await metrics.listNamespacedCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', namespace, plural: 'pods' }).then(
      (r) => new Set(((r as { items?: { metadata?: { name?: string } }[] }).items ?? []).map((i) => i.metadata?.name)),
      (e: Error) => e,
    );
    if (got instanceof Error) return { done: false, note: `the metrics API: ${String((got as { body?: unknown }).body ?? got.message).slice(0, 200)}` };
    const missing = running.filter((p) => !got.has(p));
    return missing.length ? { done: false, note: `no usage yet for ${missing.join(', ')}` } : { done: true, value: undefined };
  });
}
