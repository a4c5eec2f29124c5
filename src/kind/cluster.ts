import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { isAbsolute, join } from 'node:path';
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import { repoRoot } from '../paths.ts';
import { requireEngine } from '../targets/docker/engine.ts';
import { procInfo } from '../targets/local/proc.ts';
import { timeouts } from '../timeouts.ts';
import { pollUntil } from '../util/poll.ts';
import { freePorts, LOOPBACK } from '../util/ports.ts';
import type { Progress } from '../util/progress.ts';
import { assertOwnCluster, checkClusterName, CLUSTER_PREFIX } from './guard.ts';
import { CniWatch, restartContainerd, setUpPodNetwork, type ClusterRanges, type PodNetworkNode } from './pod-network.ts';
import { clustersDir, deleteCluster, recordPath, runKind, type ClusterRecord } from './kind-cli.ts';
import { kindToolchain, type KindToolchain } from './toolchain.ts';

/**
 * One kind cluster made from kind-config/cluster.yaml and the node image this machine built:
 * created, given its pod network, waited on until every node is Ready and CoreDNS answers, and
 * deleted on dispose unless kept. Its record (owner pid, kept) is written before it is created,
 * so a runner killed at any point leaves something the next run's reaper finds.
 */
export const CLUSTER_CONFIG = join(repoRoot, 'kind-config', 'cluster.yaml');

export interface ClusterOptions {
  /** Default: mlops-chaos-<6 random hex>. */
  name?: string;
  keep?: boolean;
  say?: Progress;
  /**
   * NodePorts (30000-32767) to publish on 127.0.0.1, each on a free host port chosen now: kind
   * can publish ports only when it creates the cluster.
   */
  nodePorts?: readonly number[];
  /**
   * Directories of this machine mounted at the same path in every node, so a pod's hostPath volume
   * sees the files the harness writes there as they change (a mesh sidecar's xDS files).
   */
  mounts?: readonly string[];
}

export interface ClusterTimings {
  /** `kind create cluster`, start to return. */
  createMs: number;
  /** From there to every node Ready and CoreDNS available. */
  readyMs: number;
}

function nodeView(n: { metadata?: { name?: string }; spec?: { podCIDR?: string }; status?: { addresses?: { type: string; address: string }[] } }): PodNetworkNode {
  return { name: n.metadata?.name ?? '', podCIDR: n.spec?.podCIDR ?? '', internalIP: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '' };
}

const NODE_PORTS = { min: 30000, max: 32767 } as const;
/** Docker's refusal to publish a host port that something took after it was found free; undefined for any other failure. */
export function portCollision(message: string): string | undefined {
  return /Bind for \S+ failed: port is already allocated/.exec(message)?.[0];
}

/** `kind create cluster` tries when a host port it was given is taken before Docker binds it. */
const CREATE_ATTEMPTS = 3;

/** Free host ports for the NodePorts, checked to be NodePorts. */
async function publishNodePorts(nodePorts: readonly number[]): Promise<Map<number, number>> {
  const bad = nodePorts.filter((p) => !Number.isInteger(p) || p < NODE_PORTS.min || p > NODE_PORTS.max);
  if (bad.length) throw new Error(`nodePorts: ${bad.join(', ')} ${bad.length > 1 ? 'are' : 'is'} not in Kubernetes' NodePort range ${NODE_PORTS.min}-${NODE_PORTS.max}`);
  const host = await freePorts(nodePorts.length);
  return new Map(nodePorts.map((p, i) => [p, host[i]!]));
}

/**
 * kind-config/cluster.yaml with the published NodePorts on the control plane (kube-proxy
 * answers a NodePort on every node, and kind publishes only on 127.0.0.1), and `mounts` on every
 * node at the same path.
 */
/** The pod and Service ranges the cluster config sets (kind's defaults when it sets none). */
export function clusterRanges(yamlText: string): ClusterRanges {
  const net = (parse(yamlText) as { networking?: Partial<ClusterRanges> }).networking;
  return { podSubnet: net?.podSubnet ?? '10.244.0.0/16', serviceSubnet: net?.serviceSubnet ?? '10.96.0.0/16' };
}

export function clusterConfig(yamlText: string, published: ReadonlyMap<number, number>, mounts: readonly string[] = []): string {
  const doc = parse(yamlText) as { nodes?: { role: string; extraPortMappings?: unknown[]; extraMounts?: unknown[] }[] };
  const cp = doc.nodes?.find((n) => n.role === 'control-plane');
  if (!cp) throw new Error(`${CLUSTER_CONFIG} has no control-plane node`);
  if (published.size) cp.extraPortMappings = [...published].map(([containerPort, hostPort]) => ({ containerPort, hostPort, listenAddress: LOOPBACK, protocol: 'TCP' }));
  const relative = mounts.filter((m) => !isAbsolute(m));
  if (relative.length) throw new Error(`mounts: ${relative.join(', ')} must be absolute paths`);
  if (mounts.length) for (const n of doc.nodes ?? []) n.extraMounts = mounts.map((m) => ({ hostPath: m, containerPath: m }));
  return stringify(doc);
}

export class KindCluster implements AsyncDisposable {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly discovery: DiscoveryV1Api;
  private deleted = false;

  private constructor(
    readonly name: string,
    readonly tool: KindToolchain,
    readonly kc: KubeConfig,
    readonly kubeconfigPath: string,
    readonly keep: boolean,
    readonly timings: ClusterTimings,
    private readonly published: ReadonlyMap<number, number>,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.discovery = kc.makeApiClient(DiscoveryV1Api);
  }

  static async create(opts: ClusterOptions = {}): Promise<KindCluster> {
    const say = opts.say ?? (() => undefined);
    const tool = kindToolchain();
    if ('missing' in tool) throw new Error(`the kind target cannot start: ${tool.missing}`);
    requireEngine();
    const name = opts.name ?? `${CLUSTER_PREFIX}${randomBytes(3).toString('hex')}`;
    const bad = checkClusterName(name);
    if (bad) throw new Error(bad);

    const dir = join(clustersDir, name);
    mkdirSync(dir, { recursive: true });
    const me = procInfo(process.pid);
    const record: ClusterRecord = { name, owner: `${process.pid}:${me?.startTime ?? 0}`, kept: opts.keep ?? false, createdAt: new Date().toISOString() };
    writeFileSync(recordPath(name), JSON.stringify(record, null, 2));

    const configPath = join(dir, 'cluster.yaml');
    const kubeconfigPath = join(dir, 'kubeconfig');
    say(`creating kind cluster ${name} (node image ${tool.nodeImage}, kind ${tool.kindVersion})`);
    const t0 = Date.now();
    let published: ReadonlyMap<number, number> = new Map();
    // A host port found free (ours for the NodePorts, kind's own for the API server) can be taken
    // before Docker publishes it: "Bind for 127.0.0.1:P failed: port is already allocated" (seen
    // once in CI, right after another cluster was deleted). Only that collision is tried again,
    // with new ports, after removing what the failed attempt left.
    for (let attempt = 1; ; attempt++) {
      published = await publishNodePorts(opts.nodePorts ?? []);
      writeFileSync(configPath, clusterConfig(readFileSync(CLUSTER_CONFIG, 'utf8'), published, opts.mounts));
      try {
        await runKind(tool, ['create', 'cluster', '--name', name, '--image', tool.nodeImage, '--config', configPath, '--kubeconfig', kubeconfigPath], timeouts.kindCreate);
        break;
      } catch (err) {
        const collision = portCollision((err as Error).message);
        if (!collision || attempt >= CREATE_ATTEMPTS) throw err;
        say(`kind create cluster: ${collision}; again with other ports (attempt ${attempt + 1} of ${CREATE_ATTEMPTS})`);
        await runKind(tool, ['delete', 'cluster', '--name', name, '--kubeconfig', kubeconfigPath], timeouts.kindCommand);
      }
    }
    const createMs = Date.now() - t0;
    say(`kind create cluster returned in ${(createMs / 1000).toFixed(1)} s`);

    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    assertOwnCluster(kc, name);
    const t1 = Date.now();
    const cluster = new KindCluster(name, tool, kc, kubeconfigPath, record.kept, { createMs, readyMs: 0 }, published);
    try {
      await cluster.setUpNetwork();
      await cluster.waitReady(say);
    } catch (e) {
      if (!record.kept) await cluster.delete().catch(() => undefined);
      throw e;
    }
    cluster.timings.readyMs = Date.now() - t1;
    say(`cluster ${name} ready ${(cluster.timings.readyMs / 1000).toFixed(1)} s later: every node Ready, CoreDNS available`);
    return cluster;
  }

  private async setUpNetwork(): Promise<void> {
    const nodes = await pollUntil('every node to have a pod range and an address', timeouts.kindReady, async () => {
      const list = (await this.core.listNode()).items.map(nodeView);
      const waiting = list.filter((n) => !n.podCIDR || !n.internalIP);
      return list.length && !waiting.length ? { done: true, value: list } : { done: false, note: `${waiting.map((n) => n.name).join(', ') || 'no nodes'} waiting` };
    });
    await setUpPodNetwork(nodes, clusterRanges(readFileSync(CLUSTER_CONFIG, 'utf8')));
  }

  private async waitReady(say: (message: string) => void): Promise<void> {
    const cni = new CniWatch(timeouts.cniLoaded);
    await pollUntil('every node Ready and CoreDNS available', timeouts.kindReady, async () => {
      const nodes = (await this.core.listNode()).items;
      // Each with what its kubelet last reported, so a node that never comes says why (a CNI not
      // initialized, a PLEG not healthy, no lease yet) in the wait's error.
      const notReady = nodes.flatMap((n) => {
        const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
        return ready?.status === 'True' ? [] : [{ name: n.metadata?.name ?? '', message: ready ? `${ready.status} ${ready.reason ?? ''}: ${ready.message ?? ''}`.trim() : 'no Ready condition yet' }];
      });
      for (const node of cni.due(notReady, Date.now())) {
        say(`node ${node}: its containerd has not loaded the pod network's CNI config ${timeouts.cniLoaded / 1000} s after it was written (a missed change event); restarting containerd there, which reads it as it starts`);
        await restartContainerd(node);
      }
      if (notReady.length) return { done: false, note: `not Ready: ${notReady.map((n) => `${n.name} (${n.message})`).join('; ')}` };
      const dns = await this.apps.readNamespacedDeployment({ name: 'coredns', namespace: 'kube-system' });
      const want = dns.spec?.replicas ?? 1;
      const have = dns.status?.availableReplicas ?? 0;
      return have >= want ? { done: true, value: undefined } : { done: false, note: `CoreDNS ${have}/${want} available` };
    });
  }

  /** The 127.0.0.1 URL of a NodePort published at creation. */
  nodePortUrl(nodePort: number): string {
    const host = this.published.get(nodePort);
    if (host === undefined) throw new Error(`NodePort ${nodePort} was not published when cluster ${this.name} was created (published: ${[...this.published.keys()].join(', ') || 'none'})`);
    return `http://${LOOPBACK}:${host}`;
  }

  /** Node container names (the node names). */
  async nodes(): Promise<string[]> {
    return (await this.core.listNode()).items.map((n) => n.metadata?.name ?? '').filter(Boolean);
  }

  /**
   * Copies images from this machine's engine into the nodes' containerd (nothing is pulled):
   * every node, or only `nodes` (workloads run on the worker; the control plane is tainted).
   */
  async loadImages(refs: readonly string[], nodes?: readonly string[]): Promise<void> {
    if (refs.length) await runKind(this.tool, ['load', 'docker-image', '--name', this.name, ...(nodes ? ['--nodes', nodes.join(',')] : []), ...refs], timeouts.kindCommand);
  }

  async delete(): Promise<void> {
    if (this.deleted) return;
    this.deleted = true;
    await deleteCluster(this.tool, this.name);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.keep) await this.delete();
  }
}
