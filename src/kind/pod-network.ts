import { docker } from '../targets/docker/engine.ts';

/**
 * The cluster's pod network, in place of kindnetd (its module is not served, so no image of it
 * can be built here). It does what kindnetd does on a single Docker network: each node gets a
 * ptp CNI config over its own pod range (Debian's CNI plugins), and a route to every other
 * node's pod range through that node's address. The node container's name is the node's name.
 */
export interface PodNetworkNode {
  name: string;
  podCIDR: string;
  internalIP: string;
}

export const CNI_CONFIG_PATH = '/etc/cni/net.d/10-mlops-chaos.conflist';

export function cniConfig(podCIDR: string): string {
  return JSON.stringify({
    cniVersion: '0.3.1',
    name: 'mlops-chaos',
    plugins: [
      {
        type: 'ptp',
        // Pods reach nothing outside the cluster (nothing downloads at run time): no masquerade.
        ipMasq: false,
        mtu: 1500,
        ipam: { type: 'host-local', dataDir: '/run/cni-ipam-state', routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet: podCIDR }]] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  });
}

/**
 * Every node answers refused connections with as many ICMP errors as there are refusals. kube-proxy
 * refuses a connection to a Service with no endpoints with an ICMP port-unreachable (REJECT), and
 * Linux sends at most one such error per destination a second after a burst of 6
 * (`net.ipv4.icmp_ratelimit` 1000 ms): past it a refusal is dropped and the SYN retried 1 s, 3 s
 * later. Every call through a Toxiproxy edge comes from the one Toxiproxy pod's address, so the
 * limit would turn the platform's fast refusals into hangs that its many real clients, each with
 * its own address, do not meet. Measured on a KServe predictor blocked by a quota: 9 hangs in 38
 * calls through the edge at 1000 ms, 1 in 70 at 0, and 1 in 70 straight from a pod; and by
 * tests/kind/cluster.spec.ts: of 40 connections opened together to a Service without endpoints,
 * 7 refused and 33 timed out at 1000 ms, 40 refused at 0.
 */
export const NODE_SYSCTLS = ['net.ipv4.icmp_ratelimit=0'] as const;

/** The `ip route` arguments each node needs: every other node's pod range via that node. */
export function routesFor(node: PodNetworkNode, all: readonly PodNetworkNode[]): string[][] {
  return all.filter((n) => n.name !== node.name).map((n) => ['ip', 'route', 'replace', n.podCIDR, 'via', n.internalIP]);
}

/** The cluster's address ranges, as kind-config/cluster.yaml sets them. */
export interface ClusterRanges {
  podSubnet: string;
  serviceSubnet: string;
}

/**
 * What keeps the cluster's own addresses on this machine. A node sends whatever it has no more
 * specific route for to its default route, the Docker bridge, and on to this machine's: a
 * connection to a Service made before kube-proxy wrote its rules (not DNATed), or to a pod already
 * gone (its route removed with it), would leave through it. Found with metrics-server: the API
 * server's first connections to its new Service went out un-DNATed, and this machine's network
 * answered them with 404s for as long as the kept-alive connections lived, so the metrics API never
 * became available. So on every node:
 *   - a Service address that kube-proxy did not DNAT is refused (a TCP reset; ICMP for the rest),
 *     as kube-proxy itself refuses a Service without endpoints: the client retries and its next
 *     connection meets the rules;
 *   - the pod range is a blackhole behind the nodes' own routes: a packet to a pod that is gone is
 *     dropped on the node, as a Calico node drops it (its blackhole route for its block), and the
 *     caller waits as it would there, without anything leaving this machine.
 */
export function rangeGuards(ranges: ClusterRanges): string[][] {
  const notDnated = ['-d', ranges.serviceSubnet, '-m', 'conntrack', '!', '--ctstate', 'DNAT'];
  return [
    ...['OUTPUT', 'FORWARD'].flatMap((chain) => [
      ['iptables', '-I', chain, '1', ...notDnated, '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
      ['iptables', '-I', chain, '2', ...notDnated, '-j', 'REJECT'],
    ]),
    ['ip', 'route', 'replace', 'blackhole', ranges.podSubnet],
  ];
}

export async function setUpPodNetwork(nodes: readonly PodNetworkNode[], ranges: ClusterRanges): Promise<void> {
  for (const n of nodes) {
    if (!n.podCIDR || !n.internalIP) throw new Error(`node ${n.name} has no pod range or address yet (podCIDR '${n.podCIDR}', address '${n.internalIP}')`);
  }
  await Promise.all(
    nodes.map(async (n) => {
      // Written beside it, then renamed into place: containerd reloads the directory on the rename
      // and never reads a half-written file. It can still miss the change (CniWatch, below).
      await docker(['exec', '-i', n.name, 'sh', '-c', `cat > ${CNI_CONFIG_PATH}.tmp && mv ${CNI_CONFIG_PATH}.tmp ${CNI_CONFIG_PATH}`], { input: cniConfig(n.podCIDR) });
      await docker(['exec', n.name, 'sysctl', '-q', '-w', ...NODE_SYSCTLS]);
      for (const route of routesFor(n, nodes)) await docker(['exec', n.name, ...route]);
      for (const guard of rangeGuards(ranges)) await docker(['exec', n.name, ...guard]);
    }),
  );
}

/** What a node's kubelet reports while its containerd has no CNI config loaded. */
export const CNI_NOT_LOADED = 'cni plugin not initialized';

/**
 * containerd loads the CNI config when it starts, and after that only on a change event from the
 * directory (containerd 2.3's cni_conf_syncer.go: CREATE and CHMOD ignored, and the loop ends for
 * good on a watcher error). A node whose containerd missed the change stays "cni plugin not
 * initialized" for good: twice on this machine (2026-12-01, once in CI), each time a worker right
 * after create, until the 180 s deadline. Why it missed it is not known (an overlay root's events,
 * rancher/rke2#8356, would fit); restarting containerd, which reads the directory as it starts, is
 * the remedy its issues give (containerd/containerd#7196, #8419), and the containers it runs live on
 * in their shims. CniWatch says which nodes have been stuck that way long enough, each once.
 */
export class CniWatch {
  private readonly firstSeen = new Map<string, number>();
  private readonly restarted = new Set<string>();

  constructor(private readonly afterMs: number) {}

  /** Nodes to restart containerd on now, given each not-Ready node's kubelet message. */
  due(notReady: readonly { name: string; message: string }[], now: number): string[] {
    const out: string[] = [];
    for (const n of notReady) {
      if (!n.message.includes(CNI_NOT_LOADED)) {
        this.firstSeen.delete(n.name);
        continue;
      }
      const since = this.firstSeen.get(n.name) ?? now;
      this.firstSeen.set(n.name, since);
      if (now - since >= this.afterMs && !this.restarted.has(n.name)) {
        this.restarted.add(n.name);
        out.push(n.name);
      }
    }
    return out;
  }
}

/** Restarts containerd in a node container (its name is the node's), which loads the CNI config as it starts. */
export async function restartContainerd(node: string): Promise<void> {
  await docker(['exec', node, 'systemctl', 'restart', 'containerd']);
}
