import { expect } from '@playwright/test';
import { startMesh } from '../src/mesh/mesh.ts';
import type { Stack } from '../src/targets/stack.ts';
import { pollUntil } from '../src/util/poll.ts';
import { predictKserveV1 } from '../src/workloads/predict.ts';

/**
 * What a mesh's server sidecar must do on any target that places one (docker: a container beside
 * the server; kind: a container in its pod): the edge really ends at it (it logs the requests,
 * mutual TLS and all), a PeerAuthentication STRICT push really reaches it (plaintext is then
 * refused with Envoy's 503 and logged NR), and removing the mesh puts the edge back. `placed` and
 * `removed` check, the target's way, that the sidecar is there and then gone.
 */
export async function checkServerSidecar(stack: Stack, t: { sidecarUpstream: RegExp; placed: () => Promise<void>; removed: () => Promise<void>; log?: (m: string) => void }): Promise<void> {
  const { inputs, outputs } = stack.reference.golden;
  const edge = stack.edges['client->kserve'];
  const log = t.log ?? (() => undefined);

  const mutual = await startMesh(stack, { edge: 'client->kserve', client: 'istio-1.28', server: 'istio-1.30', tls: 'ISTIO_MUTUAL', load: { pods: 1, everyMs: 5_000 } }, log);
  try {
    await t.placed();
    expect((await stack.toxiproxy.proxies())[edge.proxy]?.upstream).toMatch(t.sidecarUpstream);
    expect((await predictKserveV1(mutual.endpoints.kserve!, inputs)).predictions).toEqual(outputs);
    await mutual.setPeerAuthentication('STRICT');
    expect((await predictKserveV1(mutual.endpoints.kserve!, inputs)).predictions).toEqual(outputs);
    const seen = await pollUntil<ReturnType<typeof mutual.entries>>('the server sidecar to log the requests', 10_000, async () => {
      const e = mutual.entries().filter((x) => x.side === 'server');
      return e.length >= 2 ? { done: true, value: e } : { done: false };
    });
    expect(seen.every((x) => x.code === 200 && x.cluster.startsWith('inbound|')), JSON.stringify(seen)).toBe(true);
  } finally {
    await mutual.stop();
  }
  await t.removed();
  expect((await stack.toxiproxy.proxies())[edge.proxy]?.upstream).toBe(edge.upstream);

  const plain = await startMesh(stack, { edge: 'client->kserve', client: 'istio-1.28', server: 'istio-1.28', tls: 'DISABLE', load: { pods: 1, everyMs: 5_000 } }, log);
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
  await t.removed();
  // Back through the edge alone. On kind the Service routes to the new pod once rolled out, but
  // kube-proxy writes its rules at most once a second: the first call can still meet the old pod's.
  const back = await pollUntil('the server to answer through the edge again', 15_000, async () => {
    const res = await predictKserveV1(stack.endpoints.kserve, inputs).catch((e: Error) => e);
    return res instanceof Error ? { done: false, note: res.message } : { done: true, value: res };
  });
  expect(back.predictions).toEqual(outputs);
}
