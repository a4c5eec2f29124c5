import { connect } from 'node:net';
import { test, expect } from '../../fixtures/stack.ts';
import { startMesh } from '../../src/mesh/mesh.ts';
import { pollUntil } from '../../src/util/poll.ts';
import { parseHostPort } from '../../src/util/ports.ts';
import { predictKserveV1 } from '../../src/workloads/predict.ts';

/**
 * The mesh really sits in the path (both sidecars log the request, the edge ends at the server's
 * sidecar) and really comes out again; a PeerAuthentication pushed to the server's sidecar really
 * refuses a plaintext client and really spares a mutual-TLS one; an HTTP/2 upgrade really breaks a
 * server without a sidecar and really spares one with; a client sidecar taken down really
 * refuses and really comes back; and the server keep-alive a mesh
 * scenario sets really makes the model server close an idle connection, which KServe's own
 * default does not.
 */
test.describe('mesh sidecars on the local stack', () => {
  test('a request through Istio 1.28 → 1.30 sidecars is logged by both and gets the golden answer; removal puts the edge back', async ({ stack }) => {
    const { inputs, outputs } = stack.reference.golden;
    const edge = stack.edges['client->kserve'];
    const mesh = await startMesh(stack, { edge: 'client->kserve', client: 'istio-1.28', server: 'istio-1.30', tls: 'ISTIO_MUTUAL', load: { pods: 1, everyMs: 5_000 } }, () => undefined);
    try {
      expect((await stack.toxiproxy.proxies())[edge.proxy]?.upstream, 'the edge ends at the server sidecar').not.toBe(edge.upstream);
      const r = await predictKserveV1(mesh.endpoints.kserve!, inputs);
      expect(r.predictions, `${r.http.status} ${r.http.body.slice(0, 200)}`).toEqual(outputs);
      const seen = await pollUntil<ReturnType<typeof mesh.entries>>('both sidecars to log the request', 5_000, async () => {
        const e = mesh.entries();
        return e.some((x) => x.side === 'client') && e.some((x) => x.side === 'server') ? { done: true, value: e } : { done: false };
      });
      expect(seen.find((x) => x.side === 'client')).toMatchObject({ code: 200, flags: '-', cluster: expect.stringMatching(/^outbound\|/) });
      expect(seen.find((x) => x.side === 'server')).toMatchObject({ code: 200, flags: '-', cluster: expect.stringMatching(/^inbound\|/) });
    } finally {
      const report = await mesh.stop();
      expect(report.accessLog.requests).toEqual({ client: 1, server: 1 });
    }
    expect((await stack.toxiproxy.proxies())[edge.proxy]?.upstream).toBe(edge.upstream);
    expect(stack.pids.filter((p) => p.name.startsWith('mesh-'))).toEqual([]);
    expect((await predictKserveV1(stack.endpoints.kserve, inputs)).predictions).toEqual(outputs);
  });

  test('PeerAuthentication STRICT: a DISABLE client gets Envoy\'s 503 (client UC, server NR), an ISTIO_MUTUAL one nothing; PERMISSIVE lets it back', async ({ stack }) => {
    test.setTimeout(120_000);
    const { inputs, outputs } = stack.reference.golden;
    const predict = async (url: string) => (await predictKserveV1(url, inputs)).http;
    // A plaintext connection already pooled is drained (closed after its next answer), so the refusal shows within a few requests.
    const refused = (url: string) => pollUntil('a request refused under STRICT', 10_000, async () => {
      const r = await predict(url);
      return r.status === 503 ? { done: true, value: r } : { done: false, note: `${r.status}` };
    });
    const plain = await startMesh(stack, { edge: 'client->kserve', client: 'istio-1.28', server: 'istio-1.28', tls: 'DISABLE', load: { pods: 1, everyMs: 5_000 } }, () => undefined);
    let report;
    try {
      const url = plain.endpoints.kserve!;
      expect((await predictKserveV1(url, inputs)).predictions).toEqual(outputs);
      expect(await plain.setPeerAuthentication('STRICT')).toContain('plaintext (tls DISABLE)');
      const r = await refused(url);
      expect(r.body).toContain('upstream connect error or disconnect/reset before headers');
      const flagged = await pollUntil<ReturnType<typeof plain.entries>>('the refusal in both sidecars\' logs', 5_000, async () => {
        const e = plain.entries();
        return e.some((x) => x.side === 'client' && x.code === 503) && e.some((x) => x.side === 'server' && x.flags === 'NR') ? { done: true, value: e } : { done: false, note: e.map((x) => `${x.side} ${x.code} ${x.flags} ${x.details}`).join('; ') };
      });
      expect(flagged.find((x) => x.side === 'client' && x.code === 503)?.flags).toBe('UC');
      expect(flagged.find((x) => x.side === 'server' && x.flags === 'NR')?.details).toBe('filter_chain_not_found');
      await plain.setPeerAuthentication('PERMISSIVE');
      expect((await predictKserveV1(url, inputs)).predictions).toEqual(outputs);
    } finally {
      report = await plain.stop();
    }
    expect(report.peerAuthentication?.map((p) => p.mode)).toEqual(['PERMISSIVE', 'STRICT', 'PERMISSIVE']);
    const mutual = await startMesh(stack, { edge: 'client->kserve', client: 'istio-1.28', server: 'istio-1.30', tls: 'ISTIO_MUTUAL', load: { pods: 1, everyMs: 5_000 } }, () => undefined);
    try {
      const url = mutual.endpoints.kserve!;
      expect((await predictKserveV1(url, inputs)).predictions).toEqual(outputs);
      await mutual.setPeerAuthentication('STRICT');
      for (let i = 0; i < 20; i++) expect((await predict(url)).status).toBe(200);
    } finally {
      report = await mutual.stop();
    }
    expect(report.accessLog.flagged).toEqual([]);
  });

  test('h2UpgradePolicy UPGRADE: a server without a sidecar gets HTTP/2 it does not speak (Envoy\'s 502), one with a sidecar answers 20 of 20; DO_NOT_UPGRADE brings the first back', async ({ stack }) => {
    test.setTimeout(120_000);
    const { inputs, outputs } = stack.reference.golden;
    const outside = await startMesh(stack, { edge: 'client->kserve', client: 'istio-1.28', server: null, tls: 'DISABLE', load: { pods: 1, everyMs: 5_000 } }, () => undefined);
    let report;
    try {
      const url = outside.endpoints.kserve!;
      expect((await predictKserveV1(url, inputs)).predictions).toEqual(outputs);
      expect(await outside.setH2Upgrade(true)).toContain('HTTP/2 to the server, which has no sidecar');
      const r = (await predictKserveV1(url, inputs)).http;
      test.info().annotations.push({ type: 'measured', description: `client got ${r.status} ${r.body.slice(0, 200)}` });
      expect(r.status).toBe(502);
      expect(r.body).toContain('upstream connect error or disconnect/reset before headers. reset reason: protocol error');
      const flagged = await pollUntil<ReturnType<typeof outside.entries>>('the 502 in the client sidecar\'s log', 5_000, async () => {
        const e = outside.entries().filter((x) => x.code === 502);
        return e.length ? { done: true, value: e } : { done: false };
      });
      test.info().annotations.push({ type: 'measured', description: `client sidecar: 502 ${flagged[0]!.flags} ${flagged[0]!.details}` });
      expect(flagged[0]).toMatchObject({ flags: 'UPE', details: 'upstream_reset_before_response_started{protocol_error}' });
      await outside.setH2Upgrade(false);
      expect((await predictKserveV1(url, inputs)).predictions).toEqual(outputs);
    } finally {
      report = await outside.stop();
    }
    expect(report.h2Upgrade?.map((c) => c.upgrade)).toEqual([false, true, false]);
    const inside = await startMesh(stack, { edge: 'client->kserve', client: 'istio-1.28', server: 'istio-1.28', tls: 'ISTIO_MUTUAL', load: { pods: 1, everyMs: 5_000 } }, () => undefined);
    try {
      const url = inside.endpoints.kserve!;
      expect((await predictKserveV1(url, inputs)).predictions).toEqual(outputs);
      await inside.setH2Upgrade(true);
      for (let i = 0; i < 20; i++) expect((await predictKserveV1(url, inputs)).predictions).toEqual(outputs);
    } finally {
      report = await inside.stop();
    }
    expect(report.accessLog.flagged).toEqual([]);
  });

  test('sidecar not ready: the stopped client sidecar refuses at once, starts again into the same access log, and leaves nothing', async ({ stack }) => {
    const { inputs, outputs } = stack.reference.golden;
    const mesh = await startMesh(stack, { edge: 'client->kserve', client: 'istio-1.28', server: 'istio-1.28', tls: 'ISTIO_MUTUAL', load: { pods: 1, everyMs: 5_000 } }, () => undefined);
    let report;
    try {
      const url = mesh.endpoints.kserve!;
      expect((await predictKserveV1(url, inputs)).predictions).toEqual(outputs);
      const { note, up } = await mesh.clientSidecarDown();
      expect(note).toContain('refuses connections');
      expect(stack.pids.filter((p) => p.name.startsWith('mesh-client-'))).toEqual([]);
      const started = Date.now();
      const failure = await predictKserveV1(url, inputs).then(() => 'answered', (e: unknown) => String(e));
      expect(failure).toContain('ECONNREFUSED');
      expect(Date.now() - started, 'refused at once, not after a timeout').toBeLessThan(1_000);
      await up();
      expect((await predictKserveV1(url, inputs)).predictions).toEqual(outputs);
    } finally {
      report = await mesh.stop();
    }
    expect(report.accessLog.requests).toEqual({ client: 2, server: 2 });
    expect(stack.pids.filter((p) => p.name.startsWith('mesh-'))).toEqual([]);
  });

  test('serverKeepAlive 1s makes KServe close a connection idle for 2 s; its own default keeps it', async ({ stack }) => {
    test.setTimeout(120_000);
    const upstream = stack.edges['client->kserve'].upstream;
    const mesh = await startMesh(stack, { edge: 'client->kserve', client: 'istio-1.28', server: null, tls: 'DISABLE', serverKeepAliveS: 1, load: { pods: 1, everyMs: 5_000 } }, () => undefined);
    try {
      expect(await closedAfterIdle(upstream, 2_000)).toBe(true);
    } finally {
      await mesh.stop();
    }
    expect(await closedAfterIdle(upstream, 2_000)).toBe(false);
  });
});

/** Sends one request on a raw connection, then waits `idleMs`: did the server close it meanwhile? */
async function closedAfterIdle(hostPort: string, idleMs: number): Promise<boolean> {
  const { host, port } = parseHostPort(hostPort);
  const sock = connect({ host, port });
  let closed = false;
  let answered = false;
  sock.on('data', () => (answered = true));
  sock.on('end', () => (closed = true));
  sock.on('close', () => (closed = true));
  sock.on('error', () => (closed = true));
  await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  sock.write(`GET /v2/models/ref/ready HTTP/1.1\r\nHost: ${hostPort}\r\n\r\n`);
  await pollUntil('the readiness answer on the raw connection', 5_000, async () => (answered ? { done: true, value: undefined } : { done: false }));
  // Watching for the close for idleMs is the measurement itself, not a wait for a state.
  const closedInTime = await pollUntil<boolean>(`${idleMs} ms of idle`, idleMs + 1_000, async () => (closed ? { done: true, value: true } : { done: false }), { intervalMs: 100 }).catch(() => false);
  sock.destroy();
  return closedInTime;
}
