import { test, expect } from '@playwright/test';
import { startMesh } from '../../src/mesh/mesh.ts';
import { predictorSelector } from '../../src/kind/inference-service.ts';
import { KindStack } from '../../src/targets/kind/kind-stack.ts';
import { KSERVE_MODEL_NAME } from '../../src/targets/local/kserve-server.ts';
import { WORKLOAD_NAMESPACE as NS } from '../../src/kind/workloads.ts';
import { timeouts } from '../../src/timeouts.ts';
import { pollUntil } from '../../src/util/poll.ts';
import { progress } from '../../src/util/progress.ts';
import { predictKserveV1 } from '../../src/workloads/predict.ts';

/**
 * On kind the server's sidecar is a container in the predictor's pod: the edge really ends at it
 * (it logs the request, mutual TLS and all, and reaches the server on localhost), a
 * PeerAuthentication push really reaches it through the file mounted from this machine, and
 * removing the mesh rolls the pod back to one without it and puts the edge back.
 */
test.describe('mesh sidecars on the kind stack', () => {
  test.setTimeout(timeouts.kindCreate + timeouts.kindReady + 2 * timeouts.kindCommand + timeouts.referenceModel + timeouts.inferenceServiceReady + 4 * timeouts.podReady);

  test('the server sidecar is a container in the predictor pod: mTLS through it, a STRICT push refuses plaintext, removal leaves the pod without it', async () => {
    const say = progress('kind-mesh');
    await using stack = await KindStack.start({ runId: `kind-mesh-${Date.now()}`, log: say });
    const { cluster } = stack;
    const { inputs, outputs } = stack.reference.golden;
    const edge = stack.edges['client->kserve'];
    const containers = async () => {
      const pods = (await cluster.core.listNamespacedPod({ namespace: NS, labelSelector: predictorSelector(KSERVE_MODEL_NAME) })).items.filter((p) => !p.metadata?.deletionTimestamp);
      return pods.map((p) => [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])].map((c) => c.name).sort().join(','));
    };
    expect(await containers()).toEqual(['kserve-container,storage-initializer']);

    const mutual = await startMesh(stack, { edge: 'client->kserve', client: 'istio-1.28', server: 'istio-1.30', tls: 'ISTIO_MUTUAL', load: { pods: 1, everyMs: 5_000 } }, say);
    try {
      expect(await containers(), 'one predictor pod, with the sidecar beside the server').toEqual(['istio-proxy,kserve-container,storage-initializer']);
      expect((await stack.toxiproxy.proxies())[edge.proxy]?.upstream).toMatch(/^mesh-server-[0-9a-f]+\.mlops-chaos\.svc\.cluster\.local:15006$/);
      expect((await predictKserveV1(mutual.endpoints.kserve!, inputs)).predictions).toEqual(outputs);
      await mutual.setPeerAuthentication('STRICT');
      expect((await predictKserveV1(mutual.endpoints.kserve!, inputs)).predictions).toEqual(outputs);
      const seen = await pollUntil<ReturnType<typeof mutual.entries>>('the sidecar in the pod to log the requests', 10_000, async () => {
        const e = mutual.entries().filter((x) => x.side === 'server');
        return e.length >= 2 ? { done: true, value: e } : { done: false };
      });
      expect(seen.every((x) => x.code === 200 && x.cluster.startsWith('inbound|')), JSON.stringify(seen)).toBe(true);
    } finally {
      await mutual.stop();
    }
    expect(await containers()).toEqual(['kserve-container,storage-initializer']);
    expect((await stack.toxiproxy.proxies())[edge.proxy]?.upstream).toBe(edge.upstream);

    const plain = await startMesh(stack, { edge: 'client->kserve', client: 'istio-1.28', server: 'istio-1.28', tls: 'DISABLE', load: { pods: 1, everyMs: 5_000 } }, say);
    try {
      expect((await predictKserveV1(plain.endpoints.kserve!, inputs)).predictions).toEqual(outputs);
      await plain.setPeerAuthentication('STRICT');
      const r = await pollUntil('a plaintext request refused under STRICT', 10_000, async () => {
        const h = (await predictKserveV1(plain.endpoints.kserve!, inputs)).http;
        return h.status === 503 ? { done: true, value: h } : { done: false, note: String(h.status) };
      });
      expect(r.body).toContain('upstream connect error or disconnect/reset before headers');
      await pollUntil("the refusal in the server sidecar's log (NR)", 10_000, async () => (plain.entries().some((x) => x.side === 'server' && x.flags === 'NR') ? { done: true, value: undefined } : { done: false }));
    } finally {
      await plain.stop();
    }
    expect(await containers()).toEqual(['kserve-container,storage-initializer']);
    // The Service routes to the new pod alone once rolled out, but kube-proxy writes its rules at
    // most once a second (its min sync period): the first call can still meet the old pod's rule.
    const back = await pollUntil('the predictor to answer through the edge again', 15_000, async () => {
      const r = await predictKserveV1(stack.endpoints.kserve, inputs).catch((e: Error) => e);
      return r instanceof Error ? { done: false, note: r.message } : { done: true, value: r };
    });
    expect(back.predictions).toEqual(outputs);
  });
});
