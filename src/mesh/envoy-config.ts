import { isIP } from 'node:net';
import { TRUST_DOMAIN, type WorkloadCert } from './certs.ts';
import type { IstioRelease, RetrySetting } from './releases.ts';

/**
 * Envoy bootstrap configs for the two sidecars of one mesh edge, in the shape Istio gives them:
 * an outbound listener whose route carries the release's retry policy to an `outbound|…`
 * cluster, and an inbound listener with the release's inbound retry to an `inbound|…` cluster on
 * the application. Every request is written to a JSON access log with Envoy's response flags: the
 * evidence a 503 from the mesh leaves, where the client only sees a body of proxy text.
 *
 * Mutual TLS as Istio sets it up: the client's DestinationRule mode (`ISTIO_MUTUAL`, what auto-mTLS
 * picks for a server with a sidecar, or `DISABLE`) decides whether the outbound cluster speaks TLS
 * with its workload certificate; the server's PeerAuthentication mode decides which filter chains
 * its inbound listener has: one for mutual TLS (`transport_protocol: tls`, Istio's ALPN values),
 * and under `PERMISSIVE` a second for plaintext (`raw_buffer`). That listener is served to the
 * server's sidecar as LDS from a file, so a policy change reaches the running Envoy the way an
 * istiod push does, filter chains and all (istio/istio pilot/pkg/networking/core/filterchain_options.go,
 * `inboundPermissiveFilterChainMatchWithMxcOptions` and its STRICT counterpart). The client's
 * clusters are served to its sidecar as CDS from a file the same way, so a MeshConfig change such
 * as `h2UpgradePolicy: UPGRADE` reaches it as a push too.
 */

/** The access-log fields the suite reads (`access-log.ts`); the names are Envoy's command operators. */
export const ACCESS_LOG_FORMAT = {
  start: '%START_TIME%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  code: '%RESPONSE_CODE%',
  flags: '%RESPONSE_FLAGS%',
  details: '%RESPONSE_CODE_DETAILS%',
  attempts: '%UPSTREAM_REQUEST_ATTEMPT_COUNT%',
  cluster: '%UPSTREAM_CLUSTER%',
  transportFailure: '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
  durationMs: '%DURATION%',
} as const;

/** Header by which one outbound sidecar process stands for several client pods (one pool each). */
export const CLIENT_POD_HEADER = 'x-mesh-client-pod';
/** Envoy's router adds it only to an answer that came from upstream: the ms it waited for that answer. */
export const UPSTREAM_SERVICE_TIME_HEADER = 'x-envoy-upstream-service-time';

interface Address {
  host: string;
  port: number;
}

/** The client's DestinationRule `tls.mode`. */
export type ClientTlsMode = 'ISTIO_MUTUAL' | 'DISABLE';
/** The server's PeerAuthentication `mtls.mode`. */
export type PeerAuthenticationMode = 'PERMISSIVE' | 'STRICT';
export const CLIENT_TLS_MODES: readonly ClientTlsMode[] = ['ISTIO_MUTUAL', 'DISABLE'];

/**
 * What Istio's inbound HTTP filter chains match: over mutual TLS the ALPN its client sidecars send
 * (`mtlsHTTPALPNs`), in plaintext what the HTTP inspector sniffs (`plaintextHTTPALPNs`, without
 * HTTP/1.0 unless enabled): istio/istio pilot/pkg/networking/core/filterchain_options.go.
 */
const MTLS_HTTP_ALPNS = ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'];
const PLAINTEXT_HTTP_ALPNS = ['http/1.1', 'h2c'];

export interface SidecarConfigInput {
  release: IstioRelease;
  /** `outbound|8080||kserve`, `inbound|8080||`: Istio's cluster naming, seen in the access log. */
  service: string;
  listen: Address;
  admin: Address;
  upstream: Address;
  accessLog: string;
  /** This side's workload certificate; the client's is used only under ISTIO_MUTUAL. */
  cert?: WorkloadCert;
}

function retryPolicy(r: RetrySetting) {
  return {
    retry_on: r.retryOn,
    num_retries: r.numRetries,
    ...(r.retriableStatusCodes.length ? { retriable_status_codes: r.retriableStatusCodes } : {}),
    retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' } }],
    host_selection_retry_max_attempts: '5',
  };
}

const socket = (a: Address) => ({ socket_address: { address: a.host, port_value: a.port } });

/**
 * The outbound cluster's TLS under ISTIO_MUTUAL: its own certificate, the server's SPIFFE identity
 * checked (Istio's buildIstioMutualTLS). The ALPN is what Istio's `istio.alpn` filter sets for the
 * cluster's protocol (`istio-http/1.1`, or `istio-h2` once upgraded) and ALPNInMesh's `istio`.
 */
function upstreamTls(cert: WorkloadCert, serverSpiffe: string, sni: string, h2: boolean) {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      sni,
      common_tls_context: {
        tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
        alpn_protocols: [h2 ? 'istio-h2' : 'istio-http/1.1', 'istio'],
        tls_certificates: [{ certificate_chain: { filename: cert.cert }, private_key: { filename: cert.key } }],
        validation_context: { trusted_ca: { filename: cert.ca }, match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: serverSpiffe } }] },
      },
    },
  };
}

function cluster(name: string, upstream: Address, r: IstioRelease, tls?: object, h2 = false) {
  return {
    name,
    ...(tls ? { transport_socket: tls } : {}),
    // An address (the application beside it, a loopback edge) is static; a name on a container
    // network (docker: the server's container) is resolved, as Istio does for DNS-named hosts.
    ...(isIP(upstream.host) ? { type: 'STATIC' } : { type: 'STRICT_DNS', dns_lookup_family: 'V4_ONLY' }),
    connect_timeout: `${r.connectTimeoutS}s`,
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: socket(upstream) } }] }] },
    // Istio's getDefaultCircuitBreakerThresholds: every limit at 2^32-1 (Envoy's default of 3
    // retries made 503s during pod churn).
    circuit_breakers: { thresholds: [{ max_connections: 4294967295, max_pending_requests: 4294967295, max_requests: 4294967295, max_retries: 4294967295 }] },
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        common_http_protocol_options: { idle_timeout: `${r.upstreamIdleTimeoutS}s` },
        // HTTP/2 when upgraded (Istio's setH2Options: the cluster speaks HTTP/2 with prior knowledge).
        explicit_http_config: h2 ? { http2_protocol_options: {} } : { http_protocol_options: {} },
      },
    },
  };
}

function httpConnectionManager(name: string, input: SidecarConfigInput, virtualHost: object, clustersFromCds = false) {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      stat_prefix: name,
      // Clusters that come by CDS are not known when the bootstrap's listener is built; Istio's route
      // configs do not validate clusters either.
      route_config: { name, virtual_hosts: [virtualHost], ...(clustersFromCds ? { validate_clusters: false } : {}) },
      http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
      access_log: [fileLog(input.accessLog, ACCESS_LOG_FORMAT)],
    },
  };
}

const fileLog = (path: string, format: object, filter?: object) => ({
  name: 'envoy.access_loggers.file',
  ...(filter ? { filter } : {}),
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path, log_format: { json_format: format } },
});

// Filesystem xDS needs a node; Istio's is `sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local`.
const node = (input: SidecarConfigInput, pod: string) => ({ id: `sidecar~${input.listen.host}~${pod}.mesh~mesh.svc.cluster.local`, cluster: `${pod}.mesh` });

/** What the client's DestinationRule and MeshConfig make of its outbound clusters. */
export interface OutboundPolicy {
  /** ISTIO_MUTUAL: the server's identity and Istio's SNI for it; absent: DISABLE (plaintext). */
  mtls?: { serverSpiffe: string; sni: string };
  /** `h2UpgradePolicy: UPGRADE` (MeshConfig or DestinationRule): HTTP/2 to the server. */
  h2Upgrade: boolean;
}

const podCluster = (service: string, i: number) => (i === 0 ? service : `${service}#pod-${i}`);
const podIndexes = (clientPods: number) => Array.from({ length: clientPods }, (_, i) => i);

/**
 * The client side: a bootstrap with the outbound listener, whose clusters come from `cdsFile`
 * (see `outboundClusters`). `clientPods` > 1: one cluster (so one connection pool) per client pod,
 * picked by CLIENT_POD_HEADER, as many pods' sidecars would each keep their own pool to the service.
 */
export function outboundConfig(input: SidecarConfigInput, clientPods: number, cdsFile: string): object {
  const retry = retryPolicy(input.release.outboundRetry);
  const route = (i: number) => ({
    match: { prefix: '/', ...(i > 0 ? { headers: [{ name: CLIENT_POD_HEADER, string_match: { exact: String(i) } }] } : {}) },
    route: { cluster: podCluster(input.service, i), timeout: '0s', retry_policy: retry },
  });
  const pods = podIndexes(clientPods);
  // The header-less route last: Envoy takes the first match.
  const routes = [...pods.slice(1).map(route), route(0)];
  const name = `outbound_${input.listen.port}`;
  return {
    node: node(input, 'client'),
    admin: { address: socket(input.admin) },
    static_resources: { listeners: [{ name, address: socket(input.listen), filter_chains: [{ filters: [httpConnectionManager(name, input, { name: input.service, domains: ['*'], routes }, true)] }] }] },
    dynamic_resources: { cds_config: { resource_api_version: 'V3', path_config_source: { path: cdsFile } } },
  };
}

/**
 * The client's outbound clusters under `policy`, as a CDS response of version `version`: a
 * policy change reaches the running sidecar the way an istiod push does, and Envoy drains the
 * replaced clusters' connections.
 */
export function outboundClusters(input: SidecarConfigInput, clientPods: number, policy: OutboundPolicy, version: number): { version_info: string; resources: ({ name: string } & Record<string, unknown>)[] } {
  const { mtls, h2Upgrade } = policy;
  if (mtls && !input.cert) throw new Error('ISTIO_MUTUAL needs the client\'s workload certificate');
  const tls = mtls && input.cert ? upstreamTls(input.cert, mtls.serverSpiffe, mtls.sni, h2Upgrade) : undefined;
  return {
    version_info: String(version),
    resources: podIndexes(clientPods).map((i) => ({ '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', ...cluster(podCluster(input.service, i), input.upstream, input.release, tls, h2Upgrade) })),
  };
}

/**
 * The server side: a bootstrap whose listener comes from `ldsFile` (see `inboundListeners`), and
 * the cluster straight to the application.
 */
export function inboundConfig(input: SidecarConfigInput, ldsFile: string): object {
  return {
    node: node(input, 'server'),
    admin: { address: socket(input.admin) },
    static_resources: { clusters: [cluster(input.service, input.upstream, input.release)] },
    dynamic_resources: { lds_config: { resource_api_version: 'V3', path_config_source: { path: ldsFile } } },
  };
}

/**
 * The server's inbound listener under a PeerAuthentication mode, as an LDS response of version
 * `version`. The mutual-TLS chain is the same under both modes, so Envoy updates the listener in
 * place and connections on that chain live on; only the plaintext chain comes and goes.
 */
export function inboundListeners(input: SidecarConfigInput, mode: PeerAuthenticationMode, version: number): object {
  if (!input.cert) throw new Error("the server's sidecar needs its workload certificate");
  const r = input.release.inboundRetry;
  const name = `virtualInbound_${input.listen.port}`;
  const routes = [{ match: { prefix: '/' }, route: { cluster: input.service, timeout: '0s', ...(r ? { retry_policy: retryPolicy(r) } : {}) } }];
  const hcm = httpConnectionManager(name, input, { name: 'inbound', domains: ['*'], routes });
  const mtlsChain = {
    name: `${name}_mtls`,
    filter_chain_match: { transport_protocol: 'tls', application_protocols: MTLS_HTTP_ALPNS },
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
        require_client_certificate: true,
        common_tls_context: {
          tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
          alpn_protocols: ['h2', 'http/1.1'],
          tls_certificates: [{ certificate_chain: { filename: input.cert.cert }, private_key: { filename: input.cert.key } }],
          // Istio checks the peer's trust domain only (authz policies name identities, not this chain).
          validation_context: { trusted_ca: { filename: input.cert.ca }, match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { prefix: `spiffe://${TRUST_DOMAIN}/` } }] },
        },
      },
    },
    filters: [hcm],
  };
  const plaintextChain = { name: `${name}_plaintext`, filter_chain_match: { transport_protocol: 'raw_buffer', application_protocols: PLAINTEXT_HTTP_ALPNS }, filters: [hcm] };
  const listenerResource = {
    '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener',
    name,
    address: socket(input.listen),
    listener_filters: [
      { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' } },
      { name: 'envoy.filters.listener.http_inspector', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector' } },
    ],
    filter_chains: mode === 'STRICT' ? [mtlsChain] : [mtlsChain, plaintextChain],
    // A connection no filter chain takes (plaintext under STRICT) never reaches the HTTP log: the
    // listener's own log records it, flag NR. Every other connection would be logged there too, so
    // only NR is.
    access_log: [fileLog(input.accessLog, ACCESS_LOG_FORMAT, { response_flag_filter: { flags: ['NR'] } })],
  };
  return { version_info: String(version), resources: [listenerResource] };
}
