import { test, expect } from '@playwright/test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { explain, readAccessLog, summarize } from '../../src/mesh/access-log.ts';
import { CLIENT_POD_HEADER, UPSTREAM_SERVICE_TIME_HEADER, inboundConfig, inboundListeners, outboundClusters, outboundConfig } from '../../src/mesh/envoy-config.ts';
import { ISTIO_RELEASES } from '../../src/mesh/releases.ts';
import { answersEndToEnd } from '../../src/mesh/mesh.ts';
import { nextWait } from '../../src/probes/pods.ts';
import { parseMesh } from '../../src/scenario/mesh-block.ts';

const addr = (port: number) => ({ host: '127.0.0.1', port });
const input = (release: string) => ({ release: ISTIO_RELEASES[release]!, service: 'outbound|8080||kserve', listen: addr(1), admin: addr(2), upstream: addr(3), accessLog: '/tmp/a.log' });
// The config is JSON for Envoy; the tests walk it as plain data.
type Json = Record<string, any>;
const outbound = (release: string, pods = 1) => outboundConfig(input(release), pods, '/m/cds.json') as Json;
const clustersOf = (release: string, pods = 1, policy: Parameters<typeof outboundClusters>[2] = { h2Upgrade: false }, extra = {}) => outboundClusters({ ...input(release), ...extra }, pods, policy, 1).resources as Json[];
const routesOf = (c: Json) => c.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes as Json[];
const cert = (name: string) => ({ cert: `/c/${name}-cert.pem`, key: `/c/${name}-key.pem`, ca: '/c/root-cert.pem', spiffe: `spiffe://cluster.local/ns/x/sa/${name}` });
const serverInput = (release: string) => ({ ...input(release), service: 'inbound|8080||', cert: cert('server') });
const inboundListener = (release: string, mode: 'PERMISSIVE' | 'STRICT') => (inboundListeners(serverInput(release), mode, 1) as Json).resources[0] as Json;
const inboundRoutes = (release: string) => inboundListener(release, 'PERMISSIVE').filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes as Json[];

test.describe('mesh: sidecar configs as Istio releases render them', () => {
  test('Istio 1.28 does not retry a 503 on the way out, and retries a reset before the request on the way in', () => {
    const out = routesOf(outbound('istio-1.28'))[0]!.route.retry_policy;
    expect(out.retry_on).toBe('connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes');
    expect(out.num_retries).toBe(2);
    expect(out.retriable_status_codes).toBeUndefined();
    const inn = inboundRoutes('istio-1.28')[0]!.route.retry_policy;
    expect(inn.retry_on).toBe('reset-before-request');
  });

  test('compatibilityVersion 1.23 keeps retrying 503 outbound and nothing inbound', () => {
    expect(routesOf(outbound('istio-1.28-compat-1.23'))[0]!.route.retry_policy.retriable_status_codes).toEqual([503]);
    expect(inboundRoutes('istio-1.28-compat-1.23')[0]!.route.retry_policy).toBeUndefined();
  });

  test('upstream connections idle for Envoy\'s hour, and the access log records response flags', () => {
    const c = outbound('istio-1.30');
    const cl = clustersOf('istio-1.30')[0]!;
    const opts = cl.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
    expect(opts.common_http_protocol_options.idle_timeout).toBe('3600s');
    expect(cl.connect_timeout).toBe('10s');
    const log = c.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.access_log[0].typed_config;
    expect(log.log_format.json_format.flags).toBe('%RESPONSE_FLAGS%');
  });

  test('several client pods: one cluster (one pool) each, picked by header, the header-less route last', () => {
    const c = outbound('istio-1.28', 3);
    expect(clustersOf('istio-1.28', 3).map((x: Json) => x.name)).toEqual(['outbound|8080||kserve', 'outbound|8080||kserve#pod-1', 'outbound|8080||kserve#pod-2']);
    const routes = routesOf(c);
    expect(routes.map((r) => r.match.headers?.[0]?.string_match.exact ?? null)).toEqual(['1', '2', null]);
    expect(routes[0]!.match.headers[0].name).toBe(CLIENT_POD_HEADER);
    expect(routes[2]!.route.cluster).toBe('outbound|8080||kserve');
  });
});

test.describe('mesh: mutual TLS as DestinationRule and PeerAuthentication set it', () => {
  test('PERMISSIVE has a mutual-TLS and a plaintext chain, STRICT the same mutual-TLS chain alone, so Envoy keeps its connections', () => {
    const permissive = inboundListener('istio-1.28', 'PERMISSIVE');
    const strict = inboundListener('istio-1.28', 'STRICT');
    expect(permissive.filter_chains.map((c: Json) => c.filter_chain_match.transport_protocol)).toEqual(['tls', 'raw_buffer']);
    expect(strict.filter_chains).toEqual([permissive.filter_chains[0]]);
    const tls = permissive.filter_chains[0].transport_socket.typed_config;
    expect(tls.require_client_certificate).toBe(true);
    expect(permissive.filter_chains[0].filter_chain_match.application_protocols).toEqual(['istio-http/1.0', 'istio-http/1.1', 'istio-h2']);
    // A refused connection never reaches the HTTP log: the listener's own log records it.
    expect(strict.access_log[0].typed_config.log_format.json_format.flags).toBe('%RESPONSE_FLAGS%');
    expect(strict.listener_filters[0].name).toBe('envoy.filters.listener.tls_inspector');
  });

  test('the listener is LDS from a file with its version; the bootstrap only points at it', () => {
    const boot = inboundConfig(serverInput('istio-1.30'), '/m/lds.json') as Json;
    expect(boot.dynamic_resources.lds_config.path_config_source.path).toBe('/m/lds.json');
    expect(boot.static_resources.listeners).toBeUndefined();
    expect((inboundListeners(serverInput('istio-1.30'), 'STRICT', 7) as Json).version_info).toBe('7');
  });

  test('ISTIO_MUTUAL: the outbound clusters speak TLS with the client certificate and check the server identity; DISABLE: plaintext', () => {
    const mtls = { serverSpiffe: 'spiffe://cluster.local/ns/x/sa/server', sni: 'outbound_.8080_._.kserve.x.svc.cluster.local' };
    for (const cl of clustersOf('istio-1.28', 2, { mtls, h2Upgrade: false }, { cert: cert('client') })) {
      const t = cl.transport_socket.typed_config;
      expect(t.sni).toBe(mtls.sni);
      expect(t.common_tls_context.tls_certificates[0].certificate_chain.filename).toBe('/c/client-cert.pem');
      expect(t.common_tls_context.validation_context.match_typed_subject_alt_names).toEqual([{ san_type: 'URI', matcher: { exact: mtls.serverSpiffe } }]);
    }
    expect(clustersOf('istio-1.28')[0]!.transport_socket).toBeUndefined();
    expect(() => clustersOf('istio-1.28', 1, { mtls, h2Upgrade: false })).toThrow(/client's workload certificate/);
  });

  test('the client\'s clusters are CDS from a file; h2UpgradePolicy UPGRADE makes every one HTTP/2, with istio-h2 as its ALPN under mutual TLS', () => {
    const boot = outbound('istio-1.28', 2);
    expect(boot.dynamic_resources.cds_config.path_config_source.path).toBe('/m/cds.json');
    expect(boot.static_resources.clusters).toBeUndefined();
    expect(boot.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.validate_clusters).toBe(false);
    const protocol = (cl: Json) => Object.keys(cl.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicit_http_config);
    expect(clustersOf('istio-1.28', 2).map(protocol)).toEqual([['http_protocol_options'], ['http_protocol_options']]);
    expect(clustersOf('istio-1.28', 2, { h2Upgrade: true }).map(protocol)).toEqual([['http2_protocol_options'], ['http2_protocol_options']]);
    const mtls = { serverSpiffe: 'spiffe://cluster.local/ns/x/sa/server', sni: 'outbound_.8080_._.kserve.x.svc.cluster.local' };
    const alpn = (h2Upgrade: boolean) => clustersOf('istio-1.28', 1, { mtls, h2Upgrade }, { cert: cert('client') })[0]!.transport_socket.typed_config.common_tls_context.alpn_protocols;
    expect(alpn(false)).toEqual(['istio-http/1.1', 'istio']);
    expect(alpn(true)).toEqual(['istio-h2', 'istio']);
    expect(outboundClusters(input('istio-1.28'), 1, { h2Upgrade: true }, 4).version_info).toBe('4');
  });
});

test.describe('mesh: access logs', () => {
  // Made in beforeAll, not at load: every worker that loads this file runs the describe's body,
  // and only the one that runs its tests runs afterAll, so a dir made at load was left behind.
  let dir = '';
  test.beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mesh-log-'));
  });
  test.afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const line = (start: string, code: number, flags: string, details: string, attempts = 1) =>
    JSON.stringify({ start, method: 'POST', path: '/v1/models/ref:predict', code, flags, details, attempts, cluster: 'outbound|8080||kserve', transportFailure: null, durationMs: 3 });

  test('flags are counted with their first time, retries counted, a torn last line skipped', () => {
    const file = join(dir, 'a.log');
    writeFileSync(file, [
      line('2026-11-29T10:00:00.000Z', 200, '-', 'via_upstream'),
      line('2026-11-29T10:00:01.000Z', 503, 'UC', 'upstream_reset_before_response_started{connection_termination}'),
      line('2026-11-29T10:00:02.000Z', 503, 'UC', 'upstream_reset_before_response_started{connection_termination}'),
      line('2026-11-29T10:00:03.000Z', 200, '-', 'via_upstream', 2),
      '{"start": "2026-11-29T10:00:04',
    ].join('\n'));
    const entries = readAccessLog(file, 'client');
    expect(entries).toHaveLength(4);
    const s = summarize(entries);
    expect(s.requests).toEqual({ client: 4, server: 0 });
    expect(s.flagged).toEqual([{ side: 'client', flags: 'UC', code: 503, details: 'upstream_reset_before_response_started{connection_termination}', count: 2, first: '2026-11-29T10:00:01.000Z' }]);
    expect(s.retried).toBe(1);
    // A client's failure at 10:00:01.2 is explained by the sidecar's entry; a time with nothing flagged near it is not.
    expect(explain(entries, Date.parse('2026-11-29T10:00:01.200Z'))?.flags).toBe('UC');
    expect(explain(entries, Date.parse('2026-11-29T10:00:30.000Z'))).toBeUndefined();
  });

  test('a log that was never written reads as no requests', () => {
    expect(readAccessLog(join(dir, 'missing.log'), 'server')).toEqual([]);
  });
});

test.describe('mesh: the scenario section', () => {
  const parse = (raw: unknown) => {
    const problems: string[] = [];
    const spec = parseMesh(raw, (f, why) => problems.push(`${f}: ${why}`));
    return { spec, problems };
  };

  test('a valid section: releases, none for a server outside the mesh, keep-alive in seconds, load', () => {
    expect(parse({ edge: 'client->kserve', client: 'istio-1.28', server: 'none', serverKeepAlive: '5s', load: { pods: 64, every: '5s' } })).toEqual({
      spec: { edge: 'client->kserve', client: 'istio-1.28', server: null, tls: 'DISABLE', serverKeepAliveS: 5, load: { pods: 64, everyMs: 5_000 } }, problems: [],
    });
    expect(parse({ edge: 'client->mlflow', client: 'istio-1.28', server: 'istio-1.30' }).spec?.load).toEqual({ pods: 1, everyMs: 5_000 });
  });

  test('tls defaults as auto-mTLS picks it; DISABLE can be set; ISTIO_MUTUAL to a server outside the mesh is refused', () => {
    expect(parse({ edge: 'client->kserve', client: 'istio-1.28', server: 'istio-1.28' }).spec?.tls).toBe('ISTIO_MUTUAL');
    expect(parse({ edge: 'client->kserve', client: 'istio-1.28', server: 'istio-1.28', tls: 'DISABLE' }).spec?.tls).toBe('DISABLE');
    expect(parse({ edge: 'client->kserve', client: 'istio-1.28', server: 'none', tls: 'ISTIO_MUTUAL' }).problems).toEqual([
      'mesh.tls: ISTIO_MUTUAL needs a server in the mesh (server: a release); to a server without a sidecar every request fails',
    ]);
    expect(parse({ edge: 'client->kserve', client: 'istio-1.28', server: 'istio-1.28', tls: 'SIMPLE' }).problems).toEqual([
      "mesh.tls: 'SIMPLE' is not a DestinationRule tls mode the mesh models; allowed: ISTIO_MUTUAL, DISABLE",
    ]);
  });

  test('every bad field is named with what is allowed', () => {
    const { spec, problems } = parse({ edge: 'mlflow->postgres', client: 'istio-1.9', server: 'linkerd', serverKeepAlive: '1500ms', load: { pods: 600, every: '2h' }, retries: 3 });
    expect(spec).toBeUndefined();
    expect(problems.join('\n')).toContain('mesh.retries: unknown field');
    expect(problems.join('\n')).toContain("mesh.edge: 'mlflow->postgres' cannot carry a mesh; allowed: client->kserve, client->mlflow");
    expect(problems.join('\n')).toContain("mesh.client: unknown release 'istio-1.9'; allowed: istio-1.28, istio-1.28-compat-1.23, istio-1.30");
    expect(problems.join('\n')).toContain('or none (the server is not in the mesh)');
    expect(problems.join('\n')).toContain('mesh.serverKeepAlive: a whole number of seconds');
    expect(problems.join('\n')).toContain('mesh.load.pods: a whole number from 1 to 512');
    expect(problems.join('\n')).toContain('mesh.load.every: a duration from 100ms to 60s');
  });

  test('a keep-alive on a server the suite cannot set it on is refused', () => {
    expect(parse({ edge: 'client->mlflow', client: 'istio-1.28', server: 'none', serverKeepAlive: '65s' }).spec?.serverKeepAliveS).toBe(65);
    expect(parse({ edge: 'client->mlflow-serving', client: 'istio-1.28', server: 'none', serverKeepAlive: '5s' }).problems).toEqual([
      'mesh.serverKeepAlive: the server of client->mlflow-serving has no keep-alive the suite can set; allowed on: client->kserve, client->mlflow',
    ]);
  });
});

test.describe('mesh: polling pods aim at the server\'s idle close', () => {
  const answer = (serverMs?: number) => ({ status: 200, body: '', ms: 0, headers: serverMs === undefined ? {} : { [UPSTREAM_SERVICE_TIME_HEADER]: String(serverMs) } });

  test('the server\'s own time (the sidecar\'s header) is not counted as the way, so a slow server is still met at its close', () => {
    // 22 ms round trip of which the server worked 20: the way is 2 ms, the jitter its floor of 3 ms.
    expect(nextWait(5_000, 22, answer(20), 0)).toBe(4_995);
    expect(nextWait(5_000, 22, answer(20), 0.5)).toBe(4_998);
    expect(nextWait(5_000, 22, answer(20), 1)).toBe(5_001);
    // Without the header, the whole round trip counts as the way, spread by a quarter of it.
    expect(nextWait(5_000, 40, answer(), 0.5)).toBe(4_960);
    expect(nextWait(5_000, 40, undefined, 0)).toBe(4_950);
    // A header longer than the round trip (clocks) is no negative way.
    expect(nextWait(5_000, 10, answer(30), 0.5)).toBe(5_000);
  });
});

test.describe('the mesh path wait', () => {
  test('a request that never answers is given up on its own deadline and made again', async () => {
    // A fake sidecar on loopback: its first request hangs (a dial to a pod already gone), the second
    // gets the upstream's 404 with the header only an upstream answer carries.
    const held: ServerResponse[] = [];
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      if (requests === 1) return void held.push(res);
      res.writeHead(404, { [UPSTREAM_SERVICE_TIME_HEADER]: '1' }).end('not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const said = await answersEndToEnd(`http://127.0.0.1:${port}/.mlops-chaos/mesh-path`, 'client->kserve');
      expect(requests).toBe(2);
      expect(said).toMatch(/^answered after 1 miss\(es\) in \d+\.\d s, the first: no response within/);
    } finally {
      for (const r of held) r.destroy();
      server.closeAllConnections();
      server.close();
    }
  });
});
