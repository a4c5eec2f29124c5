import { readFileSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import { KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { imageRef } from '../../src/images/catalog.ts';
import type { KindCluster } from '../../src/kind/cluster.ts';
import { injectResourceQuota, QUOTA_NAME } from '../../src/kind/faults/resource-quota.ts';
import { isvcRef, predictorSelector, waitInferenceServiceReady, type Conditioned } from '../../src/kind/inference-service.ts';
import { isPodReady } from '../../src/kind/objects.ts';
import { ensureNamespace, runPod, serviceEndpoints, WORKLOAD_NAMESPACE as NS } from '../../src/kind/workloads.ts';
import { docker } from '../../src/targets/docker/engine.ts';
import { KindStack } from '../../src/targets/kind/kind-stack.ts';
import { KSERVE_MODEL_NAME } from '../../src/targets/local/kserve-server.ts';
import { checkServerSidecar } from '../server-sidecar-checks.ts';
import { timeouts } from '../../src/timeouts.ts';
import { pollUntil } from '../../src/util/poll.ts';
import { progress } from '../../src/util/progress.ts';

const ISVC = KSERVE_MODEL_NAME;
const CLIENT_NS = 'mlops-chaos-client';

/**
 * POSTs the golden inputs to the predictor's Service from a pod in the cluster; its phase and what
 * it printed. The caller runs in a namespace of its own, as a client team's would, so a quota on
 * the serving namespace does not refuse the caller itself.
 */
async function goldenCall(cluster: KindCluster, inputs: number[][], pod: string, failOnError = true): Promise<{ phase: string; answer: string }> {
  const body = JSON.stringify({ instances: inputs });
  const url = `http://${ISVC}-predictor.${NS}.svc.cluster.local/v1/models/${ISVC}:predict`;
  const { phase, log } = await runPod(cluster, CLIENT_NS, pod, { image: imageRef('kserve'), command: ['curl', '-sS', ...(failOnError ? ['--fail-with-body'] : []), '--max-time', '20', '-H', 'content-type: application/json', '-d', body, url] });
  return { phase, answer: log };
}

/** A node container's memory high-water mark, from the engine's cgroup v1 (0 where there is none). */
async function peakMemoryBytes(container: string): Promise<number> {
  const id = (await docker(['inspect', '--format', '{{.Id}}', container])).trim();
  try {
    return Number(readFileSync(`/sys/fs/cgroup/memory/docker/${id}/memory.max_usage_in_bytes`, 'utf8'));
  } catch {
    return 0;
  }
}

test.describe('KServe on kind', () => {
  // One stack for both tests: a cluster and its images take minutes to make.
  test.describe.configure({ mode: 'serial' });
  const say = progress('kind-kserve');
  let stack: KindStack | undefined;
  const started = () => {
    if (!stack) throw new Error('the kind stack did not start (see beforeAll)');
    return stack;
  };
  test.beforeAll(async ({}, testInfo) => {
    testInfo.setTimeout(timeouts.kindCreate + timeouts.kindReady + 2 * timeouts.kindCommand + timeouts.referenceModel + timeouts.inferenceServiceReady);
    // The kind target's own stack: the InferenceService, its runtime and its S3 secret are the stack's.
    stack = await KindStack.start({ runId: `kind-kserve-${Date.now()}`, log: say });
  });
  test.afterAll(async () => {
    await stack?.[Symbol.asyncDispose]();
  });

  test('the real KServe controller reconciles an InferenceService whose model is in SeaweedFS: Ready, and the golden outputs come back through its Service', async ({}, testInfo) => {
    test.setTimeout(2 * timeouts.inferenceServiceReady);
    const stack = started();
    const { cluster, reference } = stack;
    await ensureNamespace(cluster, CLIENT_NS);
    const api = KubernetesObjectApi.makeApiClient(cluster.kc);
    const isvc = await waitInferenceServiceReady(cluster, ISVC, NS);
    expect(isvc.status?.conditions?.find((c) => c.type === 'PredictorReady')?.status).toBe('True');
    // The controller made the predictor: its Deployment is owned by the InferenceService.
    const predictor = await cluster.apps.readNamespacedDeployment({ name: `${ISVC}-predictor`, namespace: NS });
    expect(predictor.metadata?.ownerReferences?.map((r) => `${r.kind}/${r.name}`)).toContain(`InferenceService/${ISVC}`);
    const pod = (await cluster.core.listNamespacedPod({ namespace: NS, labelSelector: predictorSelector(ISVC) })).items[0]!;
    expect(pod.spec?.initContainers?.map((c) => c.image), 'the storage initializer fetched the model').toContain(stack.versions['image:kserve-storage-initializer']);

    // The golden set, through the predictor's Service, from a pod in the cluster.
    const golden = await goldenCall(cluster, reference.golden.inputs, 'golden');
    expect(golden.phase, golden.answer).toBe('Succeeded');
    expect((JSON.parse(golden.answer) as { predictions: number[] }).predictions).toEqual(reference.golden.outputs);

    await test.step('resource-quota during a new revision: the old revision keeps serving; what says why the new one never comes?', async () => {
      const fault = await injectResourceQuota(cluster.core, NS);
      const ref = isvcRef(ISVC, NS);
      try {
        // A new revision: any change to the predictor's pod template makes a new ReplicaSet.
        await api.patch({ ...ref, spec: { predictor: { model: { env: [{ name: 'MLOPS_CHAOS_REVISION', value: '2' }] } } } } as KubernetesObject, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
        const refused = await pollUntil<string>('the new revision\'s pod to be refused by the quota', timeouts.podReady, async () => {
          const events = (await cluster.core.listNamespacedEvent({ namespace: NS })).items.filter((e) => e.reason === 'FailedCreate' && (e.message ?? '').includes('exceeded quota'));
          return events.length ? { done: true as const, value: events[0]!.message ?? '' } : { done: false };
        });
        expect(refused, 'the quota acts on the new revision').toContain(QUOTA_NAME);
        const during = await goldenCall(cluster, reference.golden.inputs, 'golden-during-quota', false);
        const o = (await api.read(ref)) as Conditioned;
        const conditions = (o.status?.conditions ?? []).map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`);
        const named = conditions.some((c) => /quota/i.test(c));
        const finding = `under a quota that refuses the new revision's pod: the old revision ${during.phase === 'Succeeded' ? 'kept serving' : `did not serve (${during.answer.slice(0, 200)})`}; InferenceService conditions ${named ? 'name the quota' : 'do not name the quota (only the ReplicaSet\'s FailedCreate event does)'}: ${conditions.join('; ')}`;
        say(finding);
        testInfo.annotations.push({ type: 'finding', description: finding });
        expect(during.phase, 'the old revision keeps serving while the new one cannot start').toBe('Succeeded');
      } finally {
        await fault.undo();
      }
      // Revert: the rollout completes, and the new revision serves the same answers.
      await pollUntil('the new revision to roll out once the quota is gone', timeouts.inferenceServiceReady, async () => {
        const d = await cluster.apps.readNamespacedDeployment({ name: `${ISVC}-predictor`, namespace: NS });
        const done = d.status?.updatedReplicas === 1 && d.status?.availableReplicas === 1 && (d.status?.replicas ?? 0) === 1;
        return done ? { done: true, value: undefined } : { done: false, note: `updated ${d.status?.updatedReplicas ?? 0}, available ${d.status?.availableReplicas ?? 0}, total ${d.status?.replicas ?? 0}` };
      });
      // Rolled out is not yet routed: until the old pod is gone and the Service's endpoints name the
      // new one alone, a request can still be sent to the old pod's address and hang.
      await pollUntil("the predictor's Service to route to the new revision only", timeouts.podReady, async () => {
        const pods = (await cluster.core.listNamespacedPod({ namespace: NS, labelSelector: predictorSelector(ISVC) })).items;
        const ips = pods.filter(isPodReady).map((p) => p.status?.podIP);
        const routed = (await serviceEndpoints(cluster, NS, `${ISVC}-predictor`)).map((e) => e.address);
        const settled = pods.length === 1 && ips.length === 1 && routed.length === 1 && routed[0] === ips[0];
        return settled ? { done: true, value: undefined } : { done: false, note: `${pods.length} pods, ready ${ips.join(',') || 'none'}, routed ${routed.join(',') || 'none'}` };
      });
      const after = await goldenCall(cluster, reference.golden.inputs, 'golden-after-quota');
      expect((JSON.parse(after.answer) as { predictions: number[] }).predictions).toEqual(reference.golden.outputs);
    });

    // What the whole cluster took at its peak (cgroup v1 keeps each node container's high-water mark).
    const peaks = await Promise.all((await cluster.nodes()).map(async (n) => ({ n, bytes: await peakMemoryBytes(n) })));
    const total = peaks.reduce((a, p) => a + p.bytes, 0);
    const line = `peak memory ${(total / 2 ** 30).toFixed(2)} GiB (${peaks.map((p) => `${p.n.replace(`${cluster.name}-`, '')} ${(p.bytes / 2 ** 30).toFixed(2)}`).join(', ')})`;
    say(line);
    testInfo.annotations.push({ type: 'measured', description: line });
  });

  /** The mesh's server sidecar, the kind way: a container in the predictor's pod, added and removed by rollouts. */
  test('mesh: the server sidecar is a container in the predictor pod; mTLS through it, a STRICT push refuses plaintext, removal leaves the pod without it', async () => {
    test.setTimeout(4 * timeouts.podReady + 2 * timeouts.kindCommand);
    const stack = started();
    const containers = async () => {
      const pods = (await stack.cluster.core.listNamespacedPod({ namespace: NS, labelSelector: predictorSelector(ISVC) })).items.filter((p) => !p.metadata?.deletionTimestamp);
      return pods.map((p) => [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])].map((c) => c.name).sort().join(','));
    };
    const without = ['kserve-container,storage-initializer'];
    expect(await containers()).toEqual(without);
    await checkServerSidecar(stack, {
      sidecarUpstream: /^mesh-server-[0-9a-f]+\.mlops-chaos\.svc\.cluster\.local:15006$/,
      placed: async () => expect(await containers(), 'one predictor pod, with the sidecar beside the server').toEqual(['istio-proxy,kserve-container,storage-initializer']),
      removed: async () => expect(await containers()).toEqual(without),
      log: say,
    });
  });
});
