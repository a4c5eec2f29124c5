import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { EdgeName, EnvoyBuild, Endpoints, ProcessName, SidecarPlacement, SidecarProcess, Stack } from '../targets/stack.ts';
import { timeouts } from '../timeouts.ts';
import { parseHostPort as addr } from '../util/ports.ts';
import { http } from '../util/http.ts';
import { pollUntil } from '../util/poll.ts';
import { waitHttp200 } from '../util/wait-http.ts';
import { readAccessLog, summarize, type AccessLogEntry, type AccessLogSummary } from './access-log.ts';
import { issueWorkloadCerts } from './certs.ts';
import { UPSTREAM_SERVICE_TIME_HEADER, inboundConfig, inboundListeners, outboundClusters, outboundConfig, type ClientTlsMode, type OutboundPolicy, type PeerAuthenticationMode, type SidecarConfigInput } from './envoy-config.ts';
import { ISTIO_RELEASES, type IstioRelease } from './releases.ts';

/**
 * A mesh on one edge, as a scenario condition: the client's requests leave through an outbound
 * sidecar, cross the edge (the pod network, where the edge's faults act), and reach the server
 * through an inbound sidecar, or directly when the server is not in the mesh. It is in place
 * before the steady state and removed after the experiment, so what the scenario judges is the
 * platform behind sidecars, not the moment they were put in.
 */

/** Edges whose client is the suite's (so its endpoint can be pointed at an outbound sidecar), by endpoint. */
export const MESH_EDGES = { 'client->kserve': 'kserve', 'client->mlflow': 'mlflow', 'client->mlflow-serving': 'mlflowServing', 'kfp->mlflow': 'kfpMlflow' } as const satisfies Partial<Record<EdgeName, keyof Endpoints>>;
export type MeshEdge = keyof typeof MESH_EDGES;
/** The stack process at each mesh edge's far end: where a server sidecar goes. */
const MESH_SERVERS = { 'client->kserve': 'kserve', 'client->mlflow': 'mlflow', 'client->mlflow-serving': 'mlflow-serving', 'kfp->mlflow': 'mlflow' } as const satisfies Record<MeshEdge, ProcessName>;
export const isMeshEdge = (s: string): s is MeshEdge => s in MESH_EDGES;

/**
 * Servers whose idle keep-alive a scenario may set, by edge: the environment variable their start
 * reads. MLflow 3's `mlflow server` runs uvicorn (its default, 5 s idle keep-alive) with the
 * server's environment, and uvicorn takes every option from a `UVICORN_` variable as well.
 */
export const KEEP_ALIVE_ENV: Partial<Record<MeshEdge, { process: 'kserve' | 'mlflow'; env: string }>> = {
  'client->kserve': { process: 'kserve', env: 'MODEL_SERVER_KEEP_ALIVE_S' },
  'client->mlflow': { process: 'mlflow', env: 'UVICORN_TIMEOUT_KEEP_ALIVE' },
};

export interface MeshSpec {
  edge: MeshEdge;
  /** Release whose settings the client's sidecar has. */
  client: string;
  /** Release of the server's sidecar; null: the server is not in the mesh (no inbound sidecar). */
  server: string | null;
  /**
   * The client's DestinationRule `tls.mode`: ISTIO_MUTUAL (what auto-mTLS picks when the server has
   * a sidecar) or DISABLE (plaintext; the only choice when it has none).
   */
  tls: ClientTlsMode;
  /** The server's idle keep-alive for this scenario (its own default when absent). */
  serverKeepAliveS?: number;
  /** The intermittent load of `kserve.poll` and `mlflow.poll`: client pods, each with its own sidecar pool, each sending one request every `everyMs`. */
  load: { pods: number; everyMs: number };
}

export interface MeshReport {
  edge: MeshEdge;
  client: { release: string; envoy: string };
  server: { release: string; envoy: string } | null;
  tls: ClientTlsMode;
  /** The server's PeerAuthentication mode at each change, from PERMISSIVE at the start. */
  peerAuthentication?: { mode: PeerAuthenticationMode; at: string }[];
  /** The client's h2UpgradePolicy at each change, from DO_NOT_UPGRADE (Istio's default) at the start. */
  h2Upgrade?: { upgrade: boolean; at: string }[];
  serverKeepAliveS?: number;
  load: MeshSpec['load'];
  accessLog: AccessLogSummary;
}

export interface ActiveMesh {
  /** Where the client now sends its requests. */
  endpoints: Partial<Endpoints>;
  readonly edge: MeshEdge;
  /** Both sidecars' access logs so far. */
  entries(): AccessLogEntry[];
  /**
   * Pushes a PeerAuthentication mode to the server's sidecar and returns once its listener runs
   * it (Envoy's admin shows the mode's filter chains active); what it says is for the fault's note.
   */
  setPeerAuthentication(mode: PeerAuthenticationMode): Promise<string>;
  /**
   * Pushes `h2UpgradePolicy` UPGRADE (true) or DO_NOT_UPGRADE to the client's sidecar and returns
   * once its clusters run it (Envoy's admin shows them all at the new protocol, none warming).
   */
  setH2Upgrade(upgrade: boolean): Promise<string>;
  /**
   * Stops the client's sidecar and returns once its listener refuses connections, as a pod's
   * application finds it before its sidecar is up; `up` starts it again and waits for it to be ready.
   */
  clientSidecarDown(): Promise<{ note: string; up: () => Promise<void> }>;
  /** Removes the mesh (idempotent) and says what the sidecars logged. */
  stop(): Promise<MeshReport>;
}

export class MeshError extends Error {}

/** The path of `answersEndToEnd`'s requests: what the mesh reports leaves them out. */
const PATH_PROBE = '/.mlops-chaos/mesh-path';

/**
 * Returns once a request through the client's sidecar gets the server's own answer: both sidecars
 * ready is not yet a path (on kind, a Service made for the server's sidecar reaches kube-proxy's
 * rules up to a sync period after its endpoints), and a scenario's steady state must judge the
 * platform, not the mesh being wired. Envoy's router adds x-envoy-upstream-service-time only to a
 * response that came from upstream (the server's 404 counts), never to its own 503.
 */
export async function answersEndToEnd(url: string, edge: MeshEdge): Promise<string | undefined> {
  const started = Date.now();
  let misses = 0;
  let firstMiss: string | undefined;
  await pollUntil(`a request through the mesh on ${edge} to get the server's own answer`, timeouts.meshPath, async () => {
    // Each attempt on its own short deadline: one that went to a pod just replaced (kube-proxy not yet
    // synced) waits on a dial that never answers, and only a new attempt dials again.
    const res = await http(url, { timeoutMs: timeouts.httpRequest }).catch((e: Error) => e);
    if (!(res instanceof Error) && res.headers[UPSTREAM_SERVICE_TIME_HEADER] !== undefined) return { done: true, value: undefined };
    const note = res instanceof Error ? res.message : `the sidecar's own ${res.status}: ${res.body.slice(0, 120)}`;
    misses++;
    firstMiss ??= note;
    return { done: false, note };
  });
  // What the wait met, for the run's log: a path that needed retries is worth knowing about.
  return misses ? `answered after ${misses} miss(es) in ${((Date.now() - started) / 1000).toFixed(1)} s, the first: ${firstMiss}` : undefined;
}

const release = (name: string): IstioRelease => {
  const r = ISTIO_RELEASES[name];
  if (!r) throw new MeshError(`unknown mesh release '${name}'; known: ${Object.keys(ISTIO_RELEASES).join(', ')}`);
  return r;
};

/** Puts an xDS response where a sidecar reads it: Envoy picks the file up when it is moved into place, never half-written. */
function writeXds(file: string, response: object): void {
  writeFileSync(`${file}.next`, JSON.stringify(response, null, 1));
  renameSync(`${file}.next`, file);
}

/** One resource list of a sidecar's config dump from its admin, or why it could not be read yet. */
async function configDump<T>(adminUrl: string, resource: string): Promise<{ configs: T[] } | { note: string }> {
  const r = await http(`${adminUrl}/config_dump?resource=${resource}`).catch(() => undefined);
  if (!r || r.status !== 200) return { note: r ? `admin answered ${r.status}` : 'admin did not answer' };
  return { configs: (JSON.parse(r.body) as { configs?: T[] }).configs ?? [] };
}

export async function startMesh(stack: Stack, spec: MeshSpec, log: (m: string) => void): Promise<ActiveMesh> {
  const host = stack.sidecars;
  if (!host) throw new MeshError(`the ${stack.target} target cannot run mesh sidecars`);
  const clientRelease = release(spec.client);
  const serverRelease = spec.server === null ? null : release(spec.server);
  const edge = stack.edges[spec.edge];
  if (spec.tls === 'ISTIO_MUTUAL' && !serverRelease) throw new MeshError('tls ISTIO_MUTUAL needs a server sidecar to end the TLS');
  const undo: (() => Promise<void>)[] = [];
  const logs: { file: string; side: AccessLogEntry['side'] }[] = [];
  const keepAlive = spec.serverKeepAliveS === undefined ? undefined : KEEP_ALIVE_ENV[spec.edge];
  const serverProcess = MESH_SERVERS[spec.edge];
  if (spec.serverKeepAliveS !== undefined && !keepAlive) throw new MeshError(`serverKeepAlive is not settable on the server of ${spec.edge}`);

  /** A started sidecar: where it is, and its process while it runs. */
  interface Sidecar { name: string; place: SidecarPlacement; proc: SidecarProcess | undefined; launch(): Promise<void> }
  /** Places a sidecar on its side, writes its config for that place, starts it and waits for Envoy's /ready. */
  const startSidecar = async (side: 'client' | 'server', envoy: EnvoyBuild, config: (place: SidecarPlacement, accessLog: string, dir: string) => object, dirs: string[]): Promise<Sidecar> => {
    const name = `mesh-${side}-${randomBytes(3).toString('hex')}`;
    const dir = host.dir(name);
    const place = await (side === 'client' ? host.besideClient(name) : host.besideServer(name, serverProcess));
    const accessLog = join(dir, 'access.log');
    const configFile = join(dir, 'envoy.json');
    writeFileSync(configFile, JSON.stringify(config(place, accessLog, dir), null, 1));
    const sidecar: Sidecar = {
      name,
      place,
      proc: undefined,
      launch: async () => {
        // As pilot-agent starts Istio's Envoy (pkg/envoy/proxy.go): two workers (ProxyConfig.concurrency),
        // a 45 s drain told to clients at once (drainDuration, --drain-strategy immediate), access logs
        // flushed every second, no hot restart. Envoy appends to the access log, so a relaunch adds to it.
        const proc = await place.start(envoy, ['-c', configFile, '--concurrency', '2', '--drain-time-s', '45', '--drain-strategy', 'immediate', '--file-flush-interval-msec', '1000', '--disable-hot-restart', '-l', 'warning'], [dir, ...dirs]);
        sidecar.proc = proc;
        await waitHttp200(proc, `the ${side} sidecar (${name}) to be ready`, `${place.adminUrl}/ready`, timeouts.sidecarReady);
      },
    };
    undo.push(async () => {
      await sidecar.proc?.stop();
      sidecar.proc = undefined;
    });
    logs.push({ file: accessLog, side });
    await sidecar.launch();
    return sidecar;
  };

  const stopAll = async () => {
    const errors: unknown[] = [];
    for (const u of undo.reverse()) await u().catch((e: unknown) => errors.push(e));
    undo.length = 0;
    if (errors.length) throw new AggregateError(errors, 'removing the mesh had errors');
  };

  // The server's listener, served from a file: each write is a new LDS version, as an istiod push.
  let lds: { file: string; input: SidecarConfigInput; version: number; adminUrl: string; modes: { mode: PeerAuthenticationMode; at: string }[] } | undefined;
  /** Writes the listener for `mode` as the next LDS version; returns its filter chains' names. */
  const writeLds = (mode: PeerAuthenticationMode): string => {
    if (!lds) throw new MeshError('the mesh on this edge has no server sidecar');
    lds.version++;
    const response = inboundListeners(lds.input, mode, lds.version) as { resources: { filter_chains: { name: string }[] }[] };
    writeXds(lds.file, response);
    lds.modes.push({ mode, at: new Date().toISOString() });
    return response.resources[0]!.filter_chains.map((c) => c.name).join(',');
  };
  // The client's clusters, served from a file the same way: each write is a new CDS version.
  let cds: { file: string; input: SidecarConfigInput; policy: OutboundPolicy; version: number; adminUrl: string; changes: { upgrade: boolean; at: string }[] } | undefined;
  const writeCds = (upgrade: boolean): void => {
    if (!cds) throw new MeshError('the mesh has no client sidecar yet');
    cds.version++;
    cds.policy = { ...cds.policy, h2Upgrade: upgrade };
    writeXds(cds.file, outboundClusters(cds.input, spec.load.pods, cds.policy, cds.version));
    cds.changes.push({ upgrade, at: new Date().toISOString() });
  };
  // Workload certificates whenever the server is in the mesh: its listener always has the mTLS chain.
  const certsDir = serverRelease ? host.dir(`mesh-certs-${randomBytes(3).toString('hex')}`) : undefined;
  const certs = certsDir ? await issueWorkloadCerts(certsDir, {
    client: { namespace: 'kubeflow-user', serviceAccount: 'default-editor' },
    server: { namespace: 'kserve-test', serviceAccount: 'default' },
  }) : undefined;

  let client: Sidecar;
  try {
    if (keepAlive && spec.serverKeepAliveS !== undefined) {
      log(`${keepAlive.process} restarted with a ${spec.serverKeepAliveS} s idle keep-alive`);
      await stack.process(keepAlive.process).restart({ [keepAlive.env]: String(spec.serverKeepAliveS) });
      undo.push(async () => {
        log(`${keepAlive.process} restarted with its own keep-alive`);
        await stack.process(keepAlive.process).restart();
      });
    }
    if (serverRelease) {
      const service = `inbound|${addr(edge.upstream).port}||`;
      const { place } = await startSidecar('server', serverRelease.envoy.venv, (p, accessLog, dir) => {
        const input: SidecarConfigInput = { release: serverRelease, service, listen: p.listen, admin: p.admin, upstream: p.server ?? addr(edge.upstream), accessLog, cert: certs!.server };
        lds = { file: join(dir, 'lds.json'), input, version: 0, adminUrl: p.adminUrl, modes: [] };
        writeLds('PERMISSIVE');
        return inboundConfig(input, lds.file);
      }, certsDir ? [certsDir] : []);
      // The edge (the pod network) now ends at the server's sidecar; written down first so a crashed run's next start puts it back.
      const id = `mesh-${randomBytes(4).toString('hex')}`;
      stack.faultLog.add({ id, type: 'mesh', target: spec.edge, injectedAt: new Date().toISOString(), revert: { kind: 'set-upstream', proxy: edge.proxy, upstream: edge.upstream } });
      undo.push(async () => {
        await stack.toxiproxy.setUpstream(edge.proxy, edge.upstream);
        stack.faultLog.remove(id);
      });
      await stack.toxiproxy.setUpstream(edge.proxy, place.reachableAt);
    }
    const serverName = spec.edge.split('->')[1]!;
    const port = addr(edge.upstream).port;
    const service = `outbound|${port}||${serverName}`;
    // Istio's SNI for a mesh upstream: outbound_.<port>_.<subset>_.<host FQDN>.
    const mtls = spec.tls === 'ISTIO_MUTUAL' && certs ? { serverSpiffe: certs.server.spiffe, sni: `outbound_.${port}_._.${serverName}.kserve-test.svc.cluster.local` } : undefined;
    client = await startSidecar('client', clientRelease.envoy.venv, (p, accessLog, dir) => {
      const input: SidecarConfigInput = { release: clientRelease, service, listen: p.listen, admin: p.admin, upstream: addr(edge.listen), accessLog, ...(certs ? { cert: certs.client } : {}) };
      cds = { file: join(dir, 'cds.json'), input, policy: { ...(mtls ? { mtls } : {}), h2Upgrade: false }, version: 0, adminUrl: p.adminUrl, changes: [] };
      writeCds(false);
      return outboundConfig(input, spec.load.pods, cds.file);
    }, certsDir ? [certsDir] : []);
    const path = await answersEndToEnd(`http://${client.place.listen.host}:${client.place.listen.port}${PATH_PROBE}`, spec.edge);
    if (path) log(`mesh path on ${spec.edge} ${path}`);
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
  log(`mesh on ${spec.edge}: client sidecar ${clientRelease.name} (Envoy ${clientRelease.envoy.version}, tls ${spec.tls}), ${serverRelease ? `server sidecar ${serverRelease.name} (Envoy ${serverRelease.envoy.version}, PeerAuthentication PERMISSIVE)` : 'server not in the mesh'}`);

  const entries = () => logs.flatMap((l) => readAccessLog(l.file, l.side)).filter((e) => e.path !== PATH_PROBE).sort((a, b) => a.start - b.start);
  let report: MeshReport | undefined;
  const setPeerAuthentication = async (mode: PeerAuthenticationMode): Promise<string> => {
    if (!lds || report) throw new MeshError(`no running server sidecar on ${spec.edge} to take PeerAuthentication ${mode}`);
    const l = lds;
    // What the listener must run: its filter chains by name (Envoy keeps the first version_info across
    // an in-place filter-chain update, so the version is no proof).
    const want = writeLds(mode);
    await pollUntil(`the server sidecar's listener to run PeerAuthentication ${mode} (filter chains ${want})`, timeouts.meshPolicyApplied, async () => {
      const dump = await configDump<{ active_state?: { listener?: { filter_chains?: { name?: string }[] } }; warming_state?: unknown; error_state?: { details?: string } }>(l.adminUrl, 'dynamic_listeners');
      if ('note' in dump) return { done: false, note: dump.note };
      const c = dump.configs[0];
      if (c?.error_state) throw new MeshError(`the server sidecar rejected PeerAuthentication ${mode}: ${c.error_state.details ?? 'no details'}`);
      const running = (c?.active_state?.listener?.filter_chains ?? []).map((f) => f.name).join(',');
      return running === want && !c?.warming_state ? { done: true, value: undefined } : { done: false, note: `filter chains ${running || 'none'}${c?.warming_state ? ', a version warming' : ''}` };
    });
    const clientSays = spec.tls === 'ISTIO_MUTUAL' ? 'mutual TLS' : 'plaintext (tls DISABLE)';
    return `PeerAuthentication ${mode} on the server's sidecar (LDS version ${l.version}, ${mode === 'STRICT' ? 'mutual TLS only' : 'mutual TLS and plaintext'}); the client's sidecar sends ${clientSays}`;
  };

  const setH2Upgrade = async (upgrade: boolean): Promise<string> => {
    if (!cds || report) throw new MeshError(`no running client sidecar on ${spec.edge} to take h2UpgradePolicy`);
    const c = cds;
    writeCds(upgrade);
    const want = upgrade ? 'http2_protocol_options' : 'http_protocol_options';
    await pollUntil(`the client sidecar's ${spec.load.pods} cluster(s) to run ${want}`, timeouts.meshPolicyApplied, async () => {
      const dump = await configDump<{ cluster?: { typed_extension_protocol_options?: Record<string, { explicit_http_config?: Record<string, unknown> }> } }>(c.adminUrl, 'dynamic_active_clusters');
      if ('note' in dump) return { done: false, note: dump.note };
      const running = dump.configs.filter((d) => Object.values(d.cluster?.typed_extension_protocol_options ?? {}).some((o) => o.explicit_http_config?.[want] !== undefined)).length;
      return running === spec.load.pods ? { done: true, value: undefined } : { done: false, note: `${running} of ${spec.load.pods} at ${want}` };
    });
    return `h2UpgradePolicy ${upgrade ? 'UPGRADE' : 'DO_NOT_UPGRADE'} on the client's sidecar (CDS version ${c.version}): it speaks ${upgrade ? 'HTTP/2' : 'HTTP/1.1'} to ${serverRelease ? "the server's sidecar" : 'the server, which has no sidecar'}`;
  };

  const clientSidecar = client;
  const clientSidecarDown = async (): Promise<{ note: string; up: () => Promise<void> }> => {
    const proc = clientSidecar.proc;
    if (!proc || report) throw new MeshError(`the client sidecar on ${spec.edge} is not running`);
    await proc.stop();
    clientSidecar.proc = undefined;
    const { host: h, port } = clientSidecar.place.listen;
    await pollUntil(`the client sidecar's listener (${h}:${port}) to refuse connections`, timeouts.meshPolicyApplied, async () => {
      const refused = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: h, port });
        socket.once('connect', () => { socket.destroy(); resolve(false); });
        socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
      });
      return refused ? { done: true, value: undefined } : { done: false, note: 'a connection was still accepted' };
    });
    return {
      note: `the client's sidecar (${clientSidecar.name}) stopped: its listener ${h}:${port} refuses connections until it starts again`,
      up: async () => {
        if (report || clientSidecar.proc) return;
        await clientSidecar.launch();
      },
    };
  };

  return {
    edge: spec.edge,
    endpoints: { [MESH_EDGES[spec.edge]]: `http://${clientSidecar.place.listen.host}:${clientSidecar.place.listen.port}` },
    entries,
    setPeerAuthentication,
    setH2Upgrade,
    clientSidecarDown,
    stop: async () => {
      if (report) return report;
      await stopAll();
      report = {
        edge: spec.edge,
        client: { release: clientRelease.name, envoy: clientRelease.envoy.version },
        server: serverRelease ? { release: serverRelease.name, envoy: serverRelease.envoy.version } : null,
        tls: spec.tls,
        ...(lds && lds.modes.length > 1 ? { peerAuthentication: lds.modes } : {}),
        ...(cds && cds.changes.length > 1 ? { h2Upgrade: cds.changes } : {}),
        ...(spec.serverKeepAliveS !== undefined ? { serverKeepAliveS: spec.serverKeepAliveS } : {}),
        load: spec.load,
        accessLog: summarize(entries()),
      };
      return report;
    },
  };
}
