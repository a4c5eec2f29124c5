import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubernetesObjectApi, NetworkingV1Api, type KubernetesObject, type V1DaemonSet } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { kindCacheDir } from '../paths.ts';
import { docker } from '../targets/docker/engine.ts';
import { timeouts } from '../timeouts.ts';
import { HttpFailure, http } from '../util/http.ts';
import { pollUntil } from '../util/poll.ts';
import type { KindCluster } from './cluster.ts';
import { isConflict, isNotFound, labelSelector, podFailure } from './objects.ts';
import { readEnv } from './toolchain.ts';

/**
 * kube-network-policies, the engine that makes a NetworkPolicy act: the cluster's pod network
 * (ptp routes) enforces none. It is kindnetd's own policy engine, from its module's install.yaml,
 * changed only where this machine requires: the image images/kind/build-network-policies-image.sh
 * built (patched to reach its nfqueue through the xtables NFQUEUE target, the kernel having no
 * nf_tables queue expression; see images/kind/kube-network-policies-xt-nfqueue.patch), never pulled.
 *
 * How it decides, and what follows for a fault: the first packet of each new connection to or
 * from a pod some policy selects is queued to it and accepted or dropped there; an established
 * connection is accepted before the queue, and the node's own root processes (the kubelet's
 * probes) are never queued. A policy cuts new connections, silently (a dropped SYN), and leaves
 * open ones and health probes alone.
 */
const NAMESPACE = 'kube-system';
const NAME = 'kube-network-policies';

export interface NetworkPoliciesImage {
  version: string;
  image: string;
  manifest: string;
}

export function networkPoliciesImage(): NetworkPoliciesImage | { missing: string } {
  const file = join(kindCacheDir, 'network-policies.env');
  if (!existsSync(file)) return { missing: `kube-network-policies is not built for kind (no ${file}): run 'npm run images -- kind'` };
  const env = readEnv(file);
  if (!env.NETWORK_POLICIES_MANIFEST || !existsSync(env.NETWORK_POLICIES_MANIFEST)) return { missing: `kube-network-policies' manifest ${env.NETWORK_POLICIES_MANIFEST ?? '(unnamed)'} is not in the Go module cache: run 'npm run images -- kind'` };
  return { version: env.NETWORK_POLICIES_VERSION ?? '?', image: env.NETWORK_POLICIES_IMAGE ?? '', manifest: env.NETWORK_POLICIES_MANIFEST };
}

type Obj = KubernetesObject & { spec?: any };

/** install.yaml's objects as this cluster runs them (pure: unit-tested). */
export function networkPoliciesObjects(text: string, image: string): Obj[] {
  const out: Obj[] = [];
  for (const doc of parseAllDocuments(text)) {
    const o = doc.toJS() as Obj | null;
    if (!o?.kind) continue;
    if (o.kind === 'DaemonSet') {
      const c = o.spec.template.spec.containers[0];
      c.image = image;
      c.imagePullPolicy = 'Never';
    }
    out.push(o);
  }
  return out;
}

/** Installs it on every node (its image already loaded there) and returns once each node runs it. */
export async function installNetworkPolicies(cluster: KindCluster, img: NetworkPoliciesImage): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(cluster.kc);
  for (const o of networkPoliciesObjects(readFileSync(img.manifest, 'utf8'), img.image)) {
    await api.create(o).catch((e) => { if (!isConflict(e)) throw new Error(`creating kube-network-policies' ${o.kind} ${o.metadata?.name}: ${(e as Error).message}`); });
  }
  await pollUntil(`kube-network-policies ${img.version} running on every node`, timeouts.podReady, async () => {
    const pods = (await cluster.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `app=${NAME}` })).items;
    const why = pods.map(podFailure).find(Boolean);
    if (why) throw new Error(`kube-network-policies does not start: ${why}`);
    const ds: V1DaemonSet = await cluster.apps.readNamespacedDaemonSet({ name: NAME, namespace: NAMESPACE });
    const want = ds.status?.desiredNumberScheduled ?? 0;
    const ready = ds.status?.numberReady ?? 0;
    return want > 0 && ready === want ? { done: true, value: undefined } : { done: false, note: `${ready} of ${want} nodes` };
  });
}

export const POLICY_NAME = 'mlops-chaos-cut';

/**
 * A NetworkPolicy that selects the pods matching `podLabels` and admits, of all ingress, only the
 * pods matching `admit` (none: every new connection to them is dropped). With `admit`, the engine
 * still judges every new connection to those pods, and lets the admitted ones through: the
 * control that the engine in the path is not itself the failure. Its undo deletes it.
 */
export async function restrictIngress(cluster: KindCluster, namespace: string, podLabels: Record<string, string>, admit?: Record<string, string>): Promise<{ undo: () => Promise<void>; describe: string }> {
  const net = cluster.kc.makeApiClient(NetworkingV1Api);
  await net.createNamespacedNetworkPolicy({
    namespace,
    body: {
      metadata: { name: POLICY_NAME, labels: { 'app.kubernetes.io/managed-by': 'mlops-chaos' } },
      spec: { podSelector: { matchLabels: podLabels }, policyTypes: ['Ingress'], ingress: admit ? [{ _from: [{ podSelector: { matchLabels: admit } }] }] : [] },
    },
  });
  return {
    describe: `NetworkPolicy ${namespace}/${POLICY_NAME}: ingress to pods ${labelSelector(podLabels)} ${admit ? `only from pods ${labelSelector(admit)}` : 'from nowhere'}`,
    undo: async () => {
      try {
        await net.deleteNamespacedNetworkPolicy({ name: POLICY_NAME, namespace });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    },
  };
}

/**
 * Waits until a new connection to `url` (through Toxiproxy, from its pod: what a policy judges) is
 * `cut` (no answer within networkPolicyProbe; a dropped SYN gives no error) or `answered` (any
 * HTTP status). A failure of another kind (a refusal, a reset) is neither, and the wait goes on.
 */
export async function newConnectionsAre(url: string, want: 'cut' | 'answered'): Promise<void> {
  await pollUntil(`a new connection to ${url} to be ${want}`, timeouts.networkPolicyApplied, async () => {
    const got = await http(url, { timeoutMs: timeouts.networkPolicyProbe }).then(
      (r) => ({ is: 'answered' as const, note: `answered ${r.status}` }),
      (e: Error) => (e instanceof HttpFailure && e.kind === 'timeout' ? { is: 'cut' as const, note: e.message } : { is: 'other' as const, note: e.message }),
    );
    return got.is === want ? { done: true, value: undefined } : { done: false, note: got.note };
  });
}

/** The engine's metrics port on each node (install.yaml's default `--metrics-bind-address=:9080`; it runs in the node's network). */
const METRICS_PORT = 9080;

/**
 * What the engine on `nodes` has decided so far, by verdict: its `packet_count` counter, one per
 * packet it judged (the first of each new connection; a SYN the caller sends again counts again).
 * Read from inside each node, as its own root process, which no policy judges.
 */
export async function engineVerdicts(nodes: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const node of nodes) {
    const text = await docker(['exec', node, 'curl', '-sS', '--max-time', '5', `http://127.0.0.1:${METRICS_PORT}/metrics`]);
    for (const [, labels, value] of text.matchAll(/^kube_network_policies_packet_count\{([^}]*)\} (\S+)$/gm)) {
      const verdict = /verdict="([^"]*)"/.exec(labels!)?.[1] ?? '?';
      out[verdict] = (out[verdict] ?? 0) + Number(value);
    }
  }
  return out;
}

/** The verdicts between two readings, as a phrase for a fault's note. */
export function verdictsBetween(before: Record<string, number>, after: Record<string, number>): string {
  const d = (v: string) => (after[v] ?? 0) - (before[v] ?? 0);
  const kinds = [...new Set([...Object.keys(before), ...Object.keys(after), 'accept', 'drop'])].sort();
  return kinds.map((v) => `${d(v)} ${v === 'accept' ? 'accepted' : v === 'drop' ? 'dropped' : v}`).join(', ');
}
