import { CLIENT_TLS_MODES, type ClientTlsMode } from '../mesh/envoy-config.ts';
import { isMeshEdge, KEEP_ALIVE_ENV, MESH_EDGES, type MeshSpec } from '../mesh/mesh.ts';
import { ISTIO_RELEASES, isIstioRelease } from '../mesh/releases.ts';
import { parseDuration } from './duration.ts';

const FIELDS = ['edge', 'client', 'server', 'tls', 'serverKeepAlive', 'load'];
// Each pod is a poller and a pool of its own in the client sidecar; the race scenarios use 384.
const MAX_PODS = 512;

/**
 * The `mesh` section of a scenario: sidecars on one edge for the whole scenario.
 *   mesh: { edge: client->kserve, client: istio-1.28, server: istio-1.28 | none,
 *           tls: ISTIO_MUTUAL | DISABLE, serverKeepAlive: 5s, load: { pods: 32, every: 5s } }
 * `tls` (the client's DestinationRule mode) defaults as auto-mTLS decides: ISTIO_MUTUAL to a server
 * with a sidecar, DISABLE to one without.
 * Each problem is passed to `bad` with the field it is about; undefined when there is none.
 */
export function parseMesh(raw: unknown, bad: (field: string, why: string) => void): MeshSpec | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    bad('mesh', 'must be a mapping with edge, client, server (and optionally tls, serverKeepAlive, load)');
    return undefined;
  }
  const m = raw as Record<string, unknown>;
  for (const k of Object.keys(m)) if (!FIELDS.includes(k)) bad(`mesh.${k}`, `unknown field; allowed: ${FIELDS.join(', ')}`);
  const releases = Object.keys(ISTIO_RELEASES).join(', ');
  const edge = m.edge;
  if (typeof edge !== 'string' || !isMeshEdge(edge)) bad('mesh.edge', `${edge === undefined ? 'required' : `'${String(edge)}' cannot carry a mesh`}; allowed: ${Object.keys(MESH_EDGES).join(', ')}`);
  if (typeof m.client !== 'string' || !isIstioRelease(m.client)) bad('mesh.client', `${m.client === undefined ? 'required' : `unknown release '${String(m.client)}'`}; allowed: ${releases}`);
  if (typeof m.server !== 'string' || (m.server !== 'none' && !isIstioRelease(m.server))) bad('mesh.server', `${m.server === undefined ? 'required' : `unknown release '${String(m.server)}'`}; allowed: ${releases}, or none (the server is not in the mesh)`);

  let tls: ClientTlsMode = m.server === 'none' ? 'DISABLE' : 'ISTIO_MUTUAL';
  if (m.tls !== undefined) {
    if (typeof m.tls !== 'string' || !(CLIENT_TLS_MODES as readonly string[]).includes(m.tls)) bad('mesh.tls', `'${String(m.tls)}' is not a DestinationRule tls mode the mesh models; allowed: ${CLIENT_TLS_MODES.join(', ')}`);
    // Steady state could never be reached: no sidecar ends the TLS (kubeflow/community-distribution#1931's WRONG_VERSION_NUMBER).
    else if (m.tls === 'ISTIO_MUTUAL' && m.server === 'none') bad('mesh.tls', 'ISTIO_MUTUAL needs a server in the mesh (server: a release); to a server without a sidecar every request fails');
    else tls = m.tls as ClientTlsMode;
  }

  let serverKeepAliveS: number | undefined;
  if (m.serverKeepAlive !== undefined) {
    const ms = typeof m.serverKeepAlive === 'string' ? parseDuration(m.serverKeepAlive) : undefined;
    if (ms === undefined || ms % 1000 !== 0 || ms < 1000 || ms > 600_000) bad('mesh.serverKeepAlive', 'a whole number of seconds from 1s to 10m, like 5s (uvicorn takes whole seconds)');
    else if (typeof edge === 'string' && isMeshEdge(edge) && !KEEP_ALIVE_ENV[edge]) bad('mesh.serverKeepAlive', `the server of ${edge} has no keep-alive the suite can set; allowed on: ${Object.keys(KEEP_ALIVE_ENV).join(', ')}`);
    else serverKeepAliveS = ms / 1000;
  }

  let load: MeshSpec['load'] = { pods: 1, everyMs: 5_000 };
  if (m.load !== undefined) {
    const l = m.load as Record<string, unknown>;
    if (typeof l !== 'object' || l === null) bad('mesh.load', 'must be a mapping: { pods: N, every: 5s }');
    else {
      for (const k of Object.keys(l)) if (k !== 'pods' && k !== 'every') bad(`mesh.load.${k}`, 'unknown field; allowed: pods, every');
      const pods = l.pods ?? 1;
      if (typeof pods !== 'number' || !Number.isInteger(pods) || pods < 1 || pods > MAX_PODS) bad('mesh.load.pods', `a whole number from 1 to ${MAX_PODS}`);
      const every = l.every === undefined ? 5_000 : typeof l.every === 'string' ? parseDuration(l.every) : undefined;
      if (every === undefined || every < 100 || every > 60_000) bad('mesh.load.every', 'a duration from 100ms to 60s, like 5s');
      if (typeof pods === 'number' && every !== undefined) load = { pods, everyMs: every };
    }
  }
  if (typeof edge !== 'string' || !isMeshEdge(edge) || typeof m.client !== 'string' || typeof m.server !== 'string') return undefined;
  return { edge, client: m.client, server: m.server === 'none' ? null : m.server, tls, ...(serverKeepAliveS !== undefined ? { serverKeepAliveS } : {}), load };
}
