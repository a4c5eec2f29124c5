import { spawnSync } from 'node:child_process';
import { test, expect } from '../../fixtures/stack.ts';
import { startMesh } from '../../src/mesh/mesh.ts';
import { LABEL_STACK } from '../../src/targets/docker/engine.ts';
import { pollUntil } from '../../src/util/poll.ts';
import { predictKserveV1 } from '../../src/workloads/predict.ts';

/** The stack's running containers whose name says they are a mesh's sidecar. */
const sidecarContainers = (stackId: string) =>
  spawnSync('docker', ['ps', '--filter', `label=${LABEL_STACK}=${stackId}`, '--format', '{{.Names}}'], { encoding: 'utf8' }).stdout.split('\n').filter((n) => n.includes('-mesh-'));

/**
 * On docker the server's sidecar is an Envoy container on the stack's network: the edge really
 * ends at it (it logs the request, mutual TLS and all), the PeerAuthentication push really reaches
 * it through the mounted LDS file, and removing the mesh removes the container and puts the edge back.
 */
test.describe('mesh sidecars on the docker stack', () => {
  test.setTimeout(180_000);

  test('the server sidecar is a container: mTLS through it, a STRICT push refuses plaintext, removal leaves nothing', async ({ stack }) => {
    const { inputs, outputs } = stack.reference.golden;
    const edge = stack.edges['client->kserve'];
    const mutual = await startMesh(stack, { edge: 'client->kserve', client: 'istio-1.28', server: 'istio-1.30', tls: 'ISTIO_MUTUAL', load: { pods: 1, everyMs: 5_000 } }, () => undefined);
    try {
      expect(sidecarContainers(stack.id), 'one sidecar container beside the server').toHaveLength(1);
      expect((await stack.toxiproxy.proxies())[edge.proxy]?.upstream).toMatch(/^mesh-server-[0-9a-f]+:15006$/);
      expect((await predictKserveV1(mutual.endpoints.kserve!, inputs)).predictions).toEqual(outputs);
      await mutual.setPeerAuthentication('STRICT');
      expect((await predictKserveV1(mutual.endpoints.kserve!, inputs)).predictions).toEqual(outputs);
      const seen = await pollUntil<ReturnType<typeof mutual.entries>>('the server sidecar container to log the requests', 10_000, async () => {
        const e = mutual.entries().filter((x) => x.side === 'server');
        return e.length >= 2 ? { done: true, value: e } : { done: false };
      });
      expect(seen.every((x) => x.code === 200 && x.cluster.startsWith('inbound|'))).toBe(true);
    } finally {
      await mutual.stop();
    }
    expect(sidecarContainers(stack.id)).toEqual([]);
    expect((await stack.toxiproxy.proxies())[edge.proxy]?.upstream).toBe(edge.upstream);

    const plain = await startMesh(stack, { edge: 'client->kserve', client: 'istio-1.28', server: 'istio-1.28', tls: 'DISABLE', load: { pods: 1, everyMs: 5_000 } }, () => undefined);
    try {
      expect((await predictKserveV1(plain.endpoints.kserve!, inputs)).predictions).toEqual(outputs);
      await plain.setPeerAuthentication('STRICT');
      const r = await pollUntil('a plaintext request refused under STRICT', 10_000, async () => {
        const h = (await predictKserveV1(plain.endpoints.kserve!, inputs)).http;
        return h.status === 503 ? { done: true, value: h } : { done: false, note: String(h.status) };
      });
      expect(r.body).toContain('upstream connect error or disconnect/reset before headers');
      await pollUntil('the refusal in the server sidecar\'s log (NR)', 10_000, async () => (plain.entries().some((x) => x.side === 'server' && x.flags === 'NR') ? { done: true, value: undefined } : { done: false }));
    } finally {
      await plain.stop();
    }
    expect(sidecarContainers(stack.id)).toEqual([]);
    expect((await predictKserveV1(stack.endpoints.kserve, inputs)).predictions).toEqual(outputs);
  });
});
