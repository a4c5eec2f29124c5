import type { IstioRelease, RetrySetting } from './releases.ts';

/**
 * Envoy bootstrap configs for the two sidecars of one mesh edge, in the shape Istio gives them:
 * an outbound listener whose route carries the release's retry policy to an `outbound|…`
 * cluster, and an inbound listener with no retries to an `inbound|…` cluster on the application.
 * Every request is written to a JSON access log with Envoy's response flags: the evidence a
 * 503 from the mesh leaves, where the client only sees a body of proxy text.
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

interface Address {
  host: string;
  port: number;
}

export interface SidecarConfigInput {
  release: IstioRelease;
  /** `outbound|8080||kserve`, `inbound|8080||`: Istio's cluster naming, seen in the access log. */
  service: string;
  listen: Address;
  admin: Address;
  upstream: Address;
  accessLog: string;
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

function cluster(name: string, upstream: Address, r: IstioRelease) {
  return {
    name,
    type: 'STATIC',
    connect_timeout: `${r.connectTimeoutS}s`,
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: socket(upstream) } }] }] },
    // Istio's getDefaultCircuitBreakerThresholds: every limit at 2^32-1 (Envoy's default of 3
    // retries made 503s during pod churn).
    circuit_breakers: { thresholds: [{ max_connections: 4294967295, max_pending_requests: 4294967295, max_requests: 4294967295, max_retries: 4294967295 }] },
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        common_http_protocol_options: { idle_timeout: `${r.upstreamIdleTimeoutS}s` },
        explicit_http_config: { http_protocol_options: {} },
      },
    },
  };
}

function listener(name: string, input: SidecarConfigInput, virtualHost: object) {
  return {
    name,
    address: socket(input.listen),
    filter_chains: [{
      filters: [{
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
          stat_prefix: name,
          route_config: { name, virtual_hosts: [virtualHost] },
          http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
          access_log: [{
            name: 'envoy.access_loggers.file',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
              path: input.accessLog,
              log_format: { json_format: ACCESS_LOG_FORMAT },
            },
          }],
        },
      }],
    }],
  };
}

const bootstrap = (input: SidecarConfigInput, listeners: object[], clusters: object[]) => ({
  admin: { address: socket(input.admin) },
  static_resources: { listeners, clusters },
});

/**
 * The client side. `clientPods` > 1: one cluster (so one connection pool) per client pod, picked
 * by CLIENT_POD_HEADER, as many pods' sidecars would each keep their own pool to the service.
 */
export function outboundConfig(input: SidecarConfigInput, clientPods = 1): object {
  const retry = retryPolicy(input.release.outboundRetry);
  const podCluster = (i: number) => (i === 0 ? input.service : `${input.service}#pod-${i}`);
  const route = (i: number) => ({
    match: { prefix: '/', ...(i > 0 ? { headers: [{ name: CLIENT_POD_HEADER, string_match: { exact: String(i) } }] } : {}) },
    route: { cluster: podCluster(i), timeout: '0s', retry_policy: retry },
  });
  const pods = Array.from({ length: clientPods }, (_, i) => i);
  // The header-less route last: Envoy takes the first match.
  const routes = [...pods.slice(1).map(route), route(0)];
  return bootstrap(input, [listener(`outbound_${input.listen.port}`, input, { name: input.service, domains: ['*'], routes })], pods.map((i) => cluster(podCluster(i), input.upstream, input.release)));
}

/** The server side, straight to the application, with the release's inbound retry if it has one. */
export function inboundConfig(input: SidecarConfigInput): object {
  const r = input.release.inboundRetry;
  const routes = [{ match: { prefix: '/' }, route: { cluster: input.service, timeout: '0s', ...(r ? { retry_policy: retryPolicy(r) } : {}) } }];
  return bootstrap(input, [listener(`virtualInbound_${input.listen.port}`, input, { name: 'inbound', domains: ['*'], routes })], [cluster(input.service, input.upstream, input.release)]);
}
