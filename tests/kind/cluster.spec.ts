import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test as base, expect } from '@playwright/test';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { runCli, startCli } from '../../fixtures/cli.ts';
import { KindCluster } from '../../src/kind/cluster.ts';
import { injectResourceQuota } from '../../src/kind/faults/resource-quota.ts';
import { killPod } from '../../src/kind/faults/pod-kill.ts';
import { pauseNode } from '../../src/kind/faults/node-pause.ts';
import { recordPath } from '../../src/kind/kind-cli.ts';
import { installMetricsServer, metricsServerImage } from '../../src/kind/metrics-server.ts';
import { installNetworkPolicies, networkPoliciesImage, restrictIngress } from '../../src/kind/network-policies.ts';
import { isPodReady } from '../../src/kind/objects.ts';
import { ensureNamespace, runPod, serviceEndpoints } from '../../src/kind/workloads.ts';
import { imageRef } from '../../src/images/catalog.ts';
import { timeouts } from '../../src/timeouts.ts';
import { pollUntil } from '../../src/util/poll.ts';
import { progress } from '../../src/util/progress.ts';

// One cluster for the file (a worker fixture): creating one takes about a minute here.
const test = base.extend<object, { cluster: KindCluster }>({
  cluster: [
    async ({}, use) => {
      const cluster = await KindCluster.create({ say: progress('kind-test') });
      await cluster.loadImages([imageRef('base', 'built')]);
      await use(cluster);
      await cluster.delete();
    },
    { scope: 'worker', timeout: timeouts.kindCreate + timeouts.kindReady + timeouts.kindCommand },
  ],
});

const NS = 'mlops-chaos-test';
const image = () => imageRef('base', 'built');

/** Node containers kind made for `name` (what must be gone after a run). */
const nodeContainers = (name: string): string[] =>
  spawnSync('docker', ['ps', '-aq', '--filter', `label=io.x-k8s.kind.cluster=${name}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);

/**
 * The caller's calls: the echo pod by address, then by Service name. curl itself retries each
 * until it answers, for at most 20 s: kube-proxy on the worker programs a new Service within
 * about a second. Each line says what curl finally saw, and curl's errors go to the log too.
 */
function callerScript(echoIp: string): string {
  const call = (label: string, url: string) =>
    `c=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 --retry 10 --retry-all-errors --retry-max-time 20 ${url}); echo "${label}: HTTP $c"; [ "$c" = 200 ]`;
  return [`getent hosts echo.${NS}.svc.cluster.local || echo 'no DNS answer'`, `${call(`pod ${echoIp}`, `http://${echoIp}:8080/`)} && ${call(`service echo.${NS}.svc.cluster.local`, `http://echo.${NS}.svc.cluster.local/`)}`].join('\n');
}

async function readyPods(core: CoreV1Api, labelSelector: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: NS, labelSelector })).items.filter(isPodReady);
}

test.describe('kind cluster', () => {
  test.setTimeout(timeouts.podReady * 3);

  test('is a real Kubernetes on this machine only: both nodes Ready at the pinned version, API server on 127.0.0.1', async ({ cluster }) => {
    const nodes = (await cluster.core.listNode()).items;
    expect(nodes.map((n) => n.metadata?.name).sort()).toEqual([`${cluster.name}-control-plane`, `${cluster.name}-worker`]);
    for (const n of nodes) {
      expect(n.status?.nodeInfo?.kubeletVersion).toBe(cluster.tool.kubernetesVersion);
      expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    }
    expect(new URL(cluster.kc.getCurrentCluster()!.server).hostname).toBe('127.0.0.1');
    const system = (await cluster.core.listNamespacedPod({ namespace: 'kube-system' })).items.map((p) => p.metadata?.name ?? '');
    for (const c of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'coredns']) {
      expect(system.some((p) => p.startsWith(c)), `${c} runs in kube-system`).toBe(true);
    }
  });

  test('the pod network crosses nodes: a pod on the worker reaches a Service whose pod runs on the control plane, by DNS name', async ({ cluster }) => {
    await ensureNamespace(cluster, NS);
    await cluster.core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: 'echo', labels: { app: 'echo' } },
        spec: {
          nodeName: `${cluster.name}-control-plane`,
          tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
          containers: [{ name: 'echo', image: image(), imagePullPolicy: 'Never', command: ['python3', '-m', 'http.server', '8080'], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }],
        },
      },
    });
    await cluster.core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'echo' }, spec: { selector: { app: 'echo' }, ports: [{ port: 80, targetPort: 8080 }] } } });
    const echoIp = await pollUntil<string>('the echo pod ready on the control plane', timeouts.podReady, async () => {
      const p = (await readyPods(cluster.core, 'app=echo'))[0];
      return p?.status?.podIP ? { done: true as const, value: p.status.podIP } : { done: false };
    });
    await pollUntil('the echo Service to have its ready endpoint', timeouts.podReady, async () => ((await serviceEndpoints(cluster, NS, 'echo')).some((e) => e.ready && e.address === echoIp) ? { done: true, value: undefined } : { done: false }));
    const { phase, log } = await runPod(cluster, NS, 'caller', { image: image(), nodeName: `${cluster.name}-worker`, command: ['sh', '-c', callerScript(echoIp)] });
    expect(phase, log).toBe('Succeeded');
    expect(log, 'the pod itself, across nodes').toContain(`pod ${echoIp}: HTTP 200`);
    expect(log, 'by DNS name, through the Service').toContain(`service echo.${NS}.svc.cluster.local: HTTP 200`);
  });

  test('a Service without endpoints refuses 40 connections opened together from one pod, each at once: no ICMP rate limit turns refusals into hangs', async ({ cluster }) => {
    await ensureNamespace(cluster, NS);
    await cluster.core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'nobody' }, spec: { selector: { app: 'nobody' }, ports: [{ port: 80, targetPort: 8080 }] } } });
    // curl's exit code per call: 7 refused, 28 timed out. At Linux's default icmp_ratelimit every
    // call past the first 6 or so times out (the nodes' NODE_SYSCTLS are what prevents that).
    // All at once, as the edge's clients reconnect after the endpoint went: a burst past the limit's 6.
    const script = `for i in $(seq 40); do (curl -sS -o /dev/null --connect-timeout 2 http://nobody.${NS}.svc.cluster.local/ 2>/dev/null; printf '%s ' $?) & done; wait`;
    const { phase, log } = await runPod(cluster, NS, 'refused-caller', { image: image(), nodeName: `${cluster.name}-worker`, command: ['sh', '-c', script] });
    expect(phase, log).toBe('Succeeded');
    const codes = log.trim().split(/\s+/);
    expect(codes, log).toHaveLength(40);
    expect(codes.filter((c) => c !== '7'), `every call refused (curl exit 7): ${log}`).toEqual([]);
  });

  test("nothing addressed to the cluster's ranges leaves this machine: a Service address without rules is refused at once, a pod address without a route goes nowhere", async ({ cluster }) => {
    // From a node (as the API server connects) and from a pod on the worker (forwarded by the node).
    // curl's exit code: 7 refused, 28 timed out; an unrouted pod address fails before any packet is sent.
    const script = 'for u in http://10.96.255.254/ http://10.244.250.250:8080/; do curl -sS -o /dev/null --connect-timeout 3 $u 2>/dev/null; printf "%s " $?; done';
    const node = spawnSync('docker', ['exec', `${cluster.name}-control-plane`, 'sh', '-c', script], { encoding: 'utf8' }).stdout.trim().split(/\s+/);
    expect(node[0], 'a Service address without rules, from a node: refused (7)').toBe('7');
    expect(node[1], 'a pod address without a route, from a node: not sent (7) and never a timeout or an answer').toBe('7');
    await ensureNamespace(cluster, NS);
    const { phase, log } = await runPod(cluster, NS, 'range-caller', { image: image(), nodeName: `${cluster.name}-worker`, command: ['sh', '-c', script] });
    expect(phase, log).toBe('Succeeded');
    const [svc, pod] = log.trim().split(/\s+/);
    expect(svc, `a Service address without rules, from a pod: refused (7): ${log}`).toBe('7');
    // The pod's packet is forwarded by its node into the blackhole: dropped there, so the caller times out (28), as on a Calico node.
    expect(pod, `a pod address without a route, from a pod: dropped on the node (28): ${log}`).toBe('28');
  });

  test('metrics-server answers the metrics API with a usage for every running pod (its Service new: the range guards make the API server reconnect through its rules)', async ({ cluster }) => {
    const img = metricsServerImage();
    if ('missing' in img) throw new Error(img.missing);
    const worker = `${cluster.name}-worker`;
    await cluster.loadImages([img.image], [worker]);
    await installMetricsServer(cluster, img, worker, 'kube-system');
  });

  test('network-policy acts: a new connection to the selected pod is dropped (a timeout, not a refusal) while its probes keep it Ready; the admitting policy lets its caller through and no other; revert opens it again', async ({ cluster }) => {
    const img = networkPoliciesImage();
    expect('missing' in img ? img.missing : '', 'the engine image is built').toBe('');
    if ('missing' in img) return;
    await cluster.loadImages([img.image]);
    await installNetworkPolicies(cluster, img);
    await ensureNamespace(cluster, NS);
    const worker = `${cluster.name}-worker`;
    await cluster.core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: 'np-echo', labels: { app: 'np-echo' } },
        spec: { nodeName: worker, containers: [{ name: 'echo', image: image(), imagePullPolicy: 'Never', command: ['python3', '-m', 'http.server', '8080'], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }] },
      },
    });
    const ip = await pollUntil<string>('the np-echo pod ready', timeouts.podReady, async () => {
      const p = (await readyPods(cluster.core, 'app=np-echo'))[0];
      return p?.status?.podIP ? { done: true as const, value: p.status.podIP } : { done: false };
    });
    // curl's exit code for one new connection: 0 answered, 7 refused, 28 no answer. Up to 10 tries
    // for the code wanted: the engine takes a policy change within about a second.
    let n = 0;
    const call = async (want: string, labels?: Record<string, string>) => {
      const script = `for i in $(seq 10); do curl -sS -o /dev/null --connect-timeout 2 http://${ip}:8080/ 2>/dev/null; c=$?; [ $c = ${want} ] && break; done; echo $c`;
      const { phase, log } = await runPod(cluster, NS, `np-caller-${++n}`, { image: image(), nodeName: worker, command: ['sh', '-c', script], ...(labels ? { labels } : {}) });
      expect(phase, log).toBe('Succeeded');
      return log.trim();
    };
    expect(await call('0'), 'before any policy: answered').toBe('0');
    const cut = await restrictIngress(cluster, NS, { app: 'np-echo' });
    expect(await call('28'), 'under the policy: no answer, never a refusal').toBe('28');
    const echo = await cluster.core.readNamespacedPod({ name: 'np-echo', namespace: NS });
    expect(isPodReady(echo), "the kubelet's probe, from the node, still passes: the pod stays Ready").toBe(true);
    await cut.undo();
    expect(await call('0'), 'after revert: answered').toBe('0');
    const admitted = await restrictIngress(cluster, NS, { app: 'np-echo' }, { app: 'np-caller' });
    expect(await call('0', { app: 'np-caller' }), 'admitted: the engine judges the connection and lets it through').toBe('0');
    expect(await call('28', { app: 'someone-else' }), 'the same policy drops a caller it does not admit').toBe('28');
    await admitted.undo();
  });

  test('resource-quota acts: a new pod is refused with "exceeded quota", a scale-up never gets its pod and says why; revert lets it come', async ({ cluster }) => {
    await ensureNamespace(cluster, NS);
    const labels = { app: 'sleeper' };
    await cluster.apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'sleeper' },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'sleeper', image: image(), imagePullPolicy: 'Never', command: ['sleep', 'infinity'] }] },
          },
        },
      },
    });
    await pollUntil('one sleeper ready', timeouts.podReady, async () => ((await readyPods(cluster.core, 'app=sleeper')).length === 1 ? { done: true, value: undefined } : { done: false }));

    const fault = await injectResourceQuota(cluster.core, NS);
    try {
      // 1. Direct: the API server refuses the pod and names the quota.
      const refused = await cluster.core
        .createNamespacedPod({ namespace: NS, body: { metadata: { name: 'one-more' }, spec: { containers: [{ name: 'x', image: image(), imagePullPolicy: 'Never', command: ['true'] }] } } })
        .then(() => undefined, (e: { code?: number; body?: string }) => e);
      expect(refused, 'the quota must refuse the pod, or it does not act').toBeDefined();
      expect(refused!.code).toBe(403);
      expect(String(refused!.body)).toContain('exceeded quota: mlops-chaos-no-room');

      // 2. Through a controller: the scale-up is accepted, its pod never comes, and only an event says why.
      await cluster.apps.patchNamespacedDeploymentScale({ name: 'sleeper', namespace: NS, body: [{ op: 'replace', path: '/spec/replicas', value: 2 }] });
      const why = await pollUntil('a FailedCreate event that names the quota', timeouts.podReady, async () => {
        const events = (await cluster.core.listNamespacedEvent({ namespace: NS })).items.filter((e) => e.reason === 'FailedCreate');
        const hit = events.find((e) => (e.message ?? '').includes('exceeded quota'));
        return hit ? { done: true, value: hit.message ?? '' } : { done: false, note: `${events.length} FailedCreate events` };
      });
      expect(why).toContain('mlops-chaos-no-room');
      const d = await cluster.apps.readNamespacedDeployment({ name: 'sleeper', namespace: NS });
      expect(d.spec?.replicas).toBe(2);
      expect(d.status?.readyReplicas ?? 0, 'the second replica never comes while the quota holds').toBe(1);
      expect((await cluster.core.listNamespacedPod({ namespace: NS, labelSelector: 'app=sleeper' })).items.length).toBe(1);
    } finally {
      await fault.undo();
    }
    // 3. Revert: the controller's retry creates the second pod (the no-fault control of the same scale-up).
    await pollUntil('the second sleeper after the quota is gone', timeouts.podReady, async () => ((await readyPods(cluster.core, 'app=sleeper')).length === 2 ? { done: true, value: undefined } : { done: false }));
  });

  test('pod-kill acts: the pod is gone at once and a new one replaces it', async ({ cluster }) => {
    await pollUntil('two sleepers ready', timeouts.podReady, async () => ((await readyPods(cluster.core, 'app=sleeper')).length === 2 ? { done: true, value: undefined } : { done: false }));
    const killed = await killPod(cluster.core, NS, 'app=sleeper');
    const names = (await cluster.core.listNamespacedPod({ namespace: NS, labelSelector: 'app=sleeper' })).items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name);
    expect(names, 'the victim is gone right away').not.toContain(killed.victim);
    const replacement = await killed.replaced();
    expect(replacement.pod).not.toBe(killed.victim);
    expect(replacement.readyAfterMs).toBeLessThan(timeouts.podReady);
  });
});

test.describe('kind node faults', () => {
  test.setTimeout(timeouts.nodeNotReady + timeouts.kindReady + 30_000);

  test('node-pause acts: the frozen worker is marked not Ready when its lease runs out, and Ready again after revert', async ({ cluster }) => {
    const worker = `${cluster.name}-worker`;
    const readyStatus = async () => (await cluster.core.readNode({ name: worker })).status?.conditions?.find((c) => c.type === 'Ready')?.status;
    expect(await readyStatus()).toBe('True');
    const fault = await pauseNode(cluster.name, worker);
    const t0 = Date.now();
    let detectedMs: number;
    try {
      expect(spawnSync('docker', ['inspect', '--format', '{{.State.Paused}}', worker], { encoding: 'utf8' }).stdout.trim(), 'the node container is frozen').toBe('true');
      detectedMs = await pollUntil('the API server to mark the frozen worker not Ready', timeouts.nodeNotReady, async () => {
        const st = await readyStatus();
        return st !== 'True' ? { done: true as const, value: Date.now() - t0 } : { done: false, note: `Ready=${st}` };
      });
    } finally {
      await fault.undo();
    }
    await pollUntil('the thawed worker to be Ready again', timeouts.kindReady, async () => ((await readyStatus()) === 'True' ? { done: true, value: undefined } : { done: false }));
    test.info().annotations.push({ type: 'measured', description: `frozen worker marked not Ready after ${(detectedMs / 1000).toFixed(0)} s` });
  });
});

test.describe('kind cluster lifecycle', () => {
  test.setTimeout(timeouts.kindCreate + timeouts.kindReady + timeouts.kindCommand);

  test('Ctrl-C deletes the cluster: no node container, record or kubeconfig is left', async () => {
    const name = `mlops-chaos-int-${process.pid}`;
    const { child, output } = startCli(['cluster', 'up', '--name', name]);
    await pollUntil('the runner\'s cluster to be ready', timeouts.kindCreate + timeouts.kindReady, async () => (output().includes('Ctrl-C deletes it') ? { done: true, value: undefined } : { done: false, note: output().split('\n').slice(-2).join(' | ') }));
    expect(nodeContainers(name).length, 'the cluster runs as node containers, or this test proves nothing').toBe(2);
    const exited = new Promise<number | null>((r) => child.once('close', r));
    child.kill('SIGINT');
    expect(await exited, output()).toBe(0);
    expect(nodeContainers(name)).toEqual([]);
    expect(existsSync(recordPath(name))).toBe(false);
  });

  test('a SIGKILLed runner leaves a cluster that the next run reaps and reports; nothing is left after', async () => {
    const name = `mlops-chaos-reap-${process.pid}`;
    const { child, output } = startCli(['cluster', 'up', '--name', name]);
    await pollUntil('the runner\'s cluster to be ready', timeouts.kindCreate + timeouts.kindReady, async () => (output().includes('Ctrl-C deletes it') ? { done: true, value: undefined } : { done: false, note: output().split('\n').slice(-2).join(' | ') }));
    expect(nodeContainers(name).length, 'the cluster runs as node containers, or this test proves nothing').toBe(2);
    const exited = new Promise((r) => child.once('close', r));
    child.kill('SIGKILL');
    await exited;
    expect(nodeContainers(name).length, 'a SIGKILL leaves the cluster behind').toBe(2);

    const reaped = await runCli(['reap']);
    expect(reaped.code, reaped.out).toBe(0);
    expect(reaped.out).toContain(`reaped leftovers of kind cluster (record ${name}): docker kind cluster ${name}`);
    expect(nodeContainers(name)).toEqual([]);
    expect(existsSync(recordPath(name))).toBe(false);
  });
});
