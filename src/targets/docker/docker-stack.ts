import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ensureImages, imageRef, type ImageComponent, type ImageSource } from '../../images/catalog.ts';
import { reportsDir } from '../../paths.ts';
import { ToxiproxyClient } from '../../toxiproxy.ts';
import { DEFAULT_CLIENT_SETTINGS, mlflowClientEnv } from '../../workloads/mlflow-client.ts';
import { timeouts } from '../../timeouts.ts';
import { freePorts, LOOPBACK } from '../../util/ports.ts';
import { progress, type Progress } from '../../util/progress.ts';
import { registerSecret } from '../../util/redact.ts';
import type { FaultLog } from '../../faults/types.ts';
import { pythonPackageVersion, trainReference } from '../reference-model.ts';
import { EDGES, type DatabaseAdmin, type Edge, type EdgeName, type Endpoints, type ObjectStore, type ProcessName, type ReferenceModel, type ContainerControl, type SidecarHost, type SidecarPlacement, type Stack, type StackProcess } from '../stack.ts';
import { processSidecarHost } from '../local/sidecars.ts';
import { runIdOf, StackContext } from '../local/context.ts';
import { waitToxiproxyApi } from '../local/toxiproxy-server.ts';
import { KSERVE_MODEL_NAME, waitKserveReady } from '../local/kserve-server.ts';
import { saveLogs } from '../local/local-stack.ts';
import { ARTIFACT_BUCKET, waitMlflowReady } from '../local/mlflow-server.ts';
import { waitMlflowServingReady } from '../local/mlflow-serving.ts';
import { PG_DATABASE, PG_MAX_CONNECTIONS, PG_USER, waitPostgresReady } from '../local/postgres.ts';
import { describeReaped } from '../local/reaper.ts';
import { removeRecord } from '../local/registry.ts';
import { checkWeedShell, setBucketQuota, waitSeaweedReady, WEED_SERVER_OPTIONS } from '../local/seaweedfs.ts';
import { PIPELINE_BUCKET } from '../local/local-stack.ts';
import { docker, dockerSync, imageVersions, LABEL_KEPT, LABEL_OWNER, LABEL_STACK, requireEngine } from './engine.ts';
import { reapDocker } from './reaper.ts';
import { ContainerService, type ServiceSpec } from './service.ts';
import { createSizedFs, unmountUnder, type SizedFs } from './sized-fs.ts';

// testcontainers' reaper (Ryuk) is an image no registry here can give; this target reaps by label
// itself (reaper.ts), and testcontainers must not try to pull it.
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';

/** Ports inside the containers: each component's own default, since every container has its own address. */
const PORT = { toxiproxyApi: 8474, postgres: 5432, s3: 8333, mlflow: 5000, serving: 5001, kserve: 8080 } as const;
/** A server's sidecar container: Istio's inbound capture port and its proxy admin port. */
const SIDECAR_PORT = { inbound: 15006, admin: 15000 } as const;
/** Each edge's proxy listens in the Toxiproxy container on 8666 + its index (Toxiproxy's documented range). */
const EDGE_PORT_BASE = 8666;
/** Edges a client on this machine uses: published on 127.0.0.1; the others stay on the stack's network. */
const HOST_EDGES: readonly EdgeName[] = ['client->mlflow', 'client->mlflow-serving', 'client->kserve', 'kfp->mlflow', 'kfp->s3'];

export interface DockerStackOptions {
  runId?: string;
  images?: ImageSource;
  log?: Progress;
}

/**
 * The stack as containers on one Docker network of its own (testcontainers), every edge a proxy in
 * a Toxiproxy container on that network. Only what the harness itself uses is published, on
 * 127.0.0.1: the edges clients go through, Toxiproxy's API, and each component's own port for the
 * same readiness checks the local target uses. The harness's clients and workloads run on this
 * machine, as they do on local, so one scenario judges both targets through the same probes.
 */
export class DockerStack implements Stack {
  readonly target = 'docker' as const;
  private disposed = false;

  private constructor(
    private readonly ctx: StackContext,
    private readonly network: string,
    readonly endpoints: Endpoints,
    readonly edges: Record<EdgeName, Edge>,
    readonly toxiproxy: ToxiproxyClient,
    readonly reference: ReferenceModel,
    readonly versions: Record<string, string>,
    readonly objectStore: ObjectStore,
    readonly postgres: DatabaseAdmin,
    private readonly services: Map<ProcessName, { svc: ContainerService; ready: () => Promise<void> }>,
    private readonly runId: string,
    private readonly stackInfo: ConstructorParameters<typeof ContainerService>[1],
    private readonly source: ImageSource,
  ) {}

  /** Sidecar containers of a mesh now running: removed with the stack if the mesh did not remove them. */
  private readonly sidecarContainers = new Set<ContainerService>();

  /**
   * Beside the client (the harness, on this machine): a process on loopback, as on local. Beside a
   * server: an Envoy container on the stack's network, where the edge's Toxiproxy reaches it by name
   * and it reaches the server by the server's name (a sidecar in the pod would share the server's
   * network namespace; here it is one hop away on the same network). Its admin is published on
   * 127.0.0.1; the files its config names are mounted at the same paths.
   */
  get sidecars(): SidecarHost {
    return { ...processSidecarHost(this.ctx), besideServer: (name) => this.containerPlacement(name) };
  }

  private async containerPlacement(name: string): Promise<SidecarPlacement> {
    const [adminPort] = await freePorts(1);
    return {
      listen: { host: '0.0.0.0', port: SIDECAR_PORT.inbound },
      admin: { host: '0.0.0.0', port: SIDECAR_PORT.admin },
      reachableAt: `${name}:${SIDECAR_PORT.inbound}`,
      adminUrl: `http://${LOOPBACK}:${adminPort}`,
      start: async (envoy, args, dirs) => {
        if (this.source === 'built') await ensureImages([envoy], { log: progress('images') });
        const svc = new ContainerService({
          name, image: imageRef(envoy, this.source), command: args, env: {},
          publish: { [SIDECAR_PORT.admin]: adminPort! },
          mounts: dirs.map((d) => ({ source: d, target: d })),
        }, this.stackInfo);
        this.sidecarContainers.add(svc);
        await svc.start();
        return {
          failOnExit: () => svc.failOnExit(),
          logTail: (lines) => svc.logTail(lines),
          stop: async () => {
            await svc.remove();
            this.sidecarContainers.delete(svc);
          },
        };
      },
    };
  }

  get id(): string {
    return this.ctx.record.id;
  }

  /**
   * MLflow 3's client downloads an artifact from the presigned URL the server hands out when the
   * server advertises multipart downloads (/server-info), and that URL names the object store as the
   * server reaches it (the mlflow->s3 edge, `toxiproxy:8668`), which no client outside the network
   * resolves: every download fails ("Failed to download 1 chunk(s)"). Clients here use the proxied
   * download instead, with MLflow's own switch for it.
   */
  readonly clientEnv = { MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD: 'false' };

  get faultLog(): FaultLog {
    return this.ctx.faultLog;
  }

  static async start(opts: DockerStackOptions = {}): Promise<DockerStack> {
    const log = opts.log ?? progress('stack');
    const engine = requireEngine();
    for (const r of await reapDocker()) log(describeReaped(r));
    const source = opts.images ?? 'built';
    if (source === 'built') await ensureImages(['postgres', 'seaweedfs', 'toxiproxy', 'mlflow', 'kserve'], { log: progress('images') });
    else await requireUpstreamImages();

    const runId = runIdOf(opts.runId);
    const ctx = StackContext.open(false);
    const record = ctx.record;
    const network = `mlops-chaos-${record.id}`;
    const labels = { [LABEL_STACK]: record.id, [LABEL_OWNER]: `${record.owner.pid}:${record.owner.startTime}`, [LABEL_KEPT]: 'false' };
    // A runner that exits without teardown (process.exit, an uncaught error) still removes its containers.
    const removeAllSync = () => {
      const ids = dockerSync(['ps', '-aq', '--filter', `label=${LABEL_STACK}=${record.id}`]).out.split('\n').filter(Boolean);
      if (ids.length) dockerSync(['rm', '--force', '--volumes', ...ids]);
      dockerSync(['network', 'rm', network]);
    };
    process.on('exit', removeAllSync);
    const services = new Map<ProcessName, { svc: ContainerService; ready: () => Promise<void> }>();
    try {
      log(`docker engine ${engine}; network ${network}`);
      await docker(['network', 'create', ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]), network]);
      const stack = await DockerStack.bringUp(ctx, network, labels, services, source, runId, engine, log);
      stack.removeAllSync = removeAllSync;
      return stack;
    } catch (err) {
      await DockerStack.teardown(ctx, network, services, runId, log).catch(() => undefined);
      // A component that failed mid-start is not among `services` yet: remove by label.
      removeAllSync();
      process.off('exit', removeAllSync);
      throw err;
    }
  }

  private removeAllSync: () => void = () => undefined;
  private dataFs: ContainerControl['dataFs'] = () => ({ unavailable: 'the stack is not started' });

  private static async bringUp(
    ctx: StackContext, network: string, labels: Record<string, string>,
    services: Map<ProcessName, { svc: ContainerService; ready: () => Promise<void> }>,
    source: ImageSource, runId: string, engine: string, log: Progress,
  ): Promise<DockerStack> {
    const t0 = Date.now();
    const step = (m: string) => log(`${m} (+${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    const [apiPort, pgPort, s3Port, mlflowPort, servingPort, kservePort, ...edgeHostPorts] = await freePorts(6 + HOST_EDGES.length);
    const stackInfo = { id: ctx.record.id, network, labels, logsDir: ctx.logsDir };
    const image = (c: ImageComponent) => imageRef(c, source);
    const service = (spec: ServiceSpec) => new ContainerService(spec, stackInfo);

    // --- Toxiproxy and the edges
    const edgePublish: Record<number, number> = {};
    HOST_EDGES.forEach((e, i) => (edgePublish[EDGE_PORT_BASE + EDGES.indexOf(e)] = edgeHostPorts[i]!));
    // The image's own command: the API on 0.0.0.0:8474, as upstream's image does.
    const toxi = service({ name: 'toxiproxy', image: image('toxiproxy'), env: {}, publish: { [PORT.toxiproxyApi]: apiPort!, ...edgePublish } });
    await toxi.start();
    services.set('toxiproxy', { svc: toxi, ready: async () => undefined });
    const toxiproxy = new ToxiproxyClient(`http://${LOOPBACK}:${apiPort}`);
    await waitToxiproxyApi(toxiproxy, toxi, 'Toxiproxy API (container)');
    ctx.record.toxiproxyApi = toxiproxy.apiUrl;
    ctx.save();

    const upstreams: Record<EdgeName, string> = {
      'client->mlflow': `mlflow:${PORT.mlflow}`,
      'mlflow->postgres': `postgres:${PORT.postgres}`,
      'mlflow->s3': `seaweedfs:${PORT.s3}`,
      'client->mlflow-serving': `mlflow-serving:${PORT.serving}`,
      'mlflow-serving->mlflow': `mlflow:${PORT.mlflow}`,
      'client->kserve': `kserve:${PORT.kserve}`,
      'kserve->s3': `seaweedfs:${PORT.s3}`,
      'kfp->mlflow': `mlflow:${PORT.mlflow}`,
      'kfp->s3': `seaweedfs:${PORT.s3}`,
    };
    const edges = {} as Record<EdgeName, Edge>;
    for (const [i, name] of EDGES.entries()) {
      const inner = EDGE_PORT_BASE + i;
      const hostPort = edgePublish[inner];
      const edge: Edge = { name, proxy: name.replace('->', '_to_'), listen: hostPort ? `${LOOPBACK}:${hostPort}` : `toxiproxy:${inner}`, upstream: upstreams[name] };
      await toxiproxy.createProxy(edge.proxy, `0.0.0.0:${inner}`, edge.upstream);
      edges[name] = edge;
    }
    const url = (e: EdgeName) => `http://${edges[e].listen}`;
    step(`toxiproxy ${await toxiproxy.version()} ready, ${EDGES.length} edges`);

    // --- PostgreSQL and SeaweedFS, each on a data filesystem of a fixed size (a persistent volume's)
    const dataFs: Partial<Record<ProcessName, { fs: SizedFs; path: string } | { unavailable: string }>> = {};
    for (const [name, path, sizeMB] of [['postgres', '/var/lib/postgresql', 1024], ['seaweedfs', '/data', 2048]] as const) {
      const fs = createSizedFs(ctx.workDir, name, sizeMB);
      dataFs[name] = 'unavailable' in fs ? fs : { fs, path };
      if ('unavailable' in fs) log(`${name}: no size-limited data filesystem (${fs.unavailable}); its data stays in the container, and disk-full cannot act on it`);
    }
    const mountsOf = (name: ProcessName) => {
      const d = dataFs[name];
      return d && 'fs' in d ? [{ source: d.fs.dir, target: d.path }] : [];
    };
    const pgPassword = registerSecret(randomBytes(18).toString('base64url'));
    const pg = service({
      name: 'postgres', image: image('postgres'),
      env: { POSTGRES_USER: PG_USER, POSTGRES_PASSWORD: pgPassword, POSTGRES_DB: PG_DATABASE },
      command: ['-c', `max_connections=${PG_MAX_CONNECTIONS}`, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'shared_buffers=64MB'],
      publish: { [PORT.postgres]: pgPort! },
      mounts: mountsOf('postgres'),
    });
    const credentials = {
      accessKeyId: registerSecret(`chaos${randomBytes(8).toString('hex')}`),
      secretAccessKey: registerSecret(randomBytes(24).toString('base64url')),
    };
    const s3Config = JSON.stringify({ identities: [{ name: 'chaos', credentials: [{ accessKey: credentials.accessKeyId, secretKey: credentials.secretAccessKey }], actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'] }] });
    const weed = service({
      name: 'seaweedfs', image: image('seaweedfs'), env: { HOME: '/data' },
      // The same settings as local; everything but the S3 gateway stays inside the container.
      command: ['weed', 'server', '-dir=/data', '-ip=127.0.0.1', '-ip.bind=0.0.0.0', '-s3', `-s3.port=${PORT.s3}`, '-s3.config=/etc/seaweedfs/s3.json',
        ...WEED_SERVER_OPTIONS],
      files: [{ target: '/etc/seaweedfs/s3.json', content: s3Config, mode: 0o600 }],
      publish: { [PORT.s3]: s3Port! },
      mounts: mountsOf('seaweedfs'),
    });
    const s3Access = { s3Url: `http://${LOOPBACK}:${s3Port}`, credentials };
    const pgReady = () => waitPostgresReady(pg, pgPort!, pgPassword);
    const weedReady = () => waitSeaweedReady(weed, s3Access, [ARTIFACT_BUCKET, PIPELINE_BUCKET]);
    await Promise.all([pg.start().then(pgReady).then(() => step('postgres ready')), weed.start().then(weedReady).then(() => step('seaweedfs ready'))]);
    services.set('postgres', { svc: pg, ready: pgReady });
    services.set('seaweedfs', { svc: weed, ready: weedReady });

    // --- MLflow tracking server
    const mlflowDirect = `http://${LOOPBACK}:${mlflowPort}`;
    const mlflow = service({
      name: 'mlflow', image: image('mlflow'),
      command: ['mlflow', 'server', '--artifacts-destination', `s3://${ARTIFACT_BUCKET}`, '--host', '0.0.0.0', '--port', String(PORT.mlflow), '--workers', '2'],
      env: {
        HOME: '/tmp',
        MLFLOW_BACKEND_STORE_URI: `postgresql+psycopg2://${PG_USER}@${edges['mlflow->postgres'].listen}/${PG_DATABASE}`,
        PGPASSWORD: pgPassword,
        PGCONNECT_TIMEOUT: '10',
        MLFLOW_S3_ENDPOINT_URL: url('mlflow->s3'),
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_DEFAULT_REGION: 'us-east-1',
        // MLflow 3's host-header check admits localhost and private IPs only: in a container the
        // server is reached by the names on its network (Toxiproxy's, its own), as a Kubernetes
        // Service name would. This is the setting its docs give for that.
        MLFLOW_SERVER_ALLOWED_HOSTS: `localhost,localhost:*,127.0.0.1,127.0.0.1:*,toxiproxy:*,mlflow:*`,
        MLFLOW_ENABLE_TELEMETRY: 'false',
        MLFLOW_DISABLE_TELEMETRY: 'true',
        // MLflow 3's job runner (a huey consumer for online scoring and trace archival) starts beside the
        // server's workers and more than doubles every (re)start on 2 cores (19.3 s against 8.1 s,
        // measured 2026-11-30); no capability under test uses it.
        MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
        DO_NOT_TRACK: 'true',
      },
      publish: { [PORT.mlflow]: mlflowPort! },
    });
    const mlflowReady = () => waitMlflowReady(mlflow, mlflowDirect);
    await mlflow.start();
    await mlflowReady();
    services.set('mlflow', { svc: mlflow, ready: mlflowReady });
    step('mlflow tracking server ready');

    const reference = await trainReference(ctx.dir('reference'), join(ctx.logsDir, 'reference-model.log'), url('client->mlflow'), ARTIFACT_BUCKET);
    step(`reference model ${reference.modelName} v${reference.version} registered, alias ${reference.alias}`);

    // --- Serving
    const serving = service({
      name: 'mlflow-serving', image: image('mlflow'),
      command: ['mlflow', 'models', 'serve', '-m', reference.modelUri, '--env-manager', 'local', '-h', '0.0.0.0', '-p', String(PORT.serving), '--workers', '1'],
      env: { ...definedOnly(mlflowClientEnv(url('mlflow-serving->mlflow'), DEFAULT_CLIENT_SETTINGS, '/tmp')), PATH: '/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
      publish: { [PORT.serving]: servingPort! },
    });
    const kserve = service({
      name: 'kserve', image: image('kserve'),
      command: ['python', '/opt/workloads/kserve/model_server.py', '--model-name', KSERVE_MODEL_NAME, '--storage-uri', reference.s3Uri, '--http-port', String(PORT.kserve), '--model-dir', '/tmp/kserve-model', '--host', '0.0.0.0'],
      env: {
        HOME: '/tmp',
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_ENDPOINT_URL: url('kserve->s3'),
        S3_ENDPOINT: edges['kserve->s3'].listen,
        S3_USE_HTTPS: '0',
        S3_VERIFY_SSL: '0',
      },
      publish: { [PORT.kserve]: kservePort! },
    });
    const servingReady = () => waitMlflowServingReady(serving, `http://${LOOPBACK}:${servingPort}`);
    const kserveReady = () => waitKserveReady(kserve, `http://${LOOPBACK}:${kservePort}`);
    await Promise.all([serving.start().then(servingReady), kserve.start().then(kserveReady)]);
    services.set('mlflow-serving', { svc: serving, ready: servingReady });
    services.set('kserve', { svc: kserve, ready: kserveReady });
    step('mlflow serving and kserve ready');

    const endpoints: Endpoints = {
      mlflow: url('client->mlflow'),
      mlflowServing: url('client->mlflow-serving'),
      kserve: url('client->kserve'),
      kfpMlflow: url('kfp->mlflow'),
      kfpS3: url('kfp->s3'),
      mlflowDirect,
    };
    ctx.record.endpoints = { ...endpoints };
    ctx.save();
    // The same keys as local (the servers' from their images, the clients' from this machine's
    // venvs, where the clients run), then the engine and every image by tag.
    const versions: Record<string, string> = {
      ...(await imageVersions([...new Set([...services.values()].map((s) => s.svc.image))])),
      'mlflow-client-2': pythonPackageVersion('mlflow2', 'mlflow'),
      kfp: pythonPackageVersion('kfp', 'kfp'),
      xgboost: pythonPackageVersion('mlflow3', 'xgboost_cpu'),
      docker: engine,
    };
    for (const [name, { svc }] of services) versions[`image:${name}`] = svc.image;
    const shell = async (commands: string[]) => {
      const out = await docker(['exec', '-i', weed.id, 'weed', 'shell', '-master=127.0.0.1:9333'], { input: `${commands.join('\n')}\nexit\n`, deadlineMs: timeouts.mlflowClientOp })
        .catch((err: Error) => { throw new Error(`weed shell in the seaweedfs container: ${err.message}`); });
      return checkWeedShell(commands, 0, out, '');
    };
    const objectStore: ObjectStore = {
      url: s3Access.s3Url, credentials, artifactBucket: ARTIFACT_BUCKET, pipelineBucket: PIPELINE_BUCKET,
      setQuota: (bucket, sizeMB) => setBucketQuota(shell, { url: s3Access.s3Url, credentials }, bucket, sizeMB),
    };
    const postgres: DatabaseAdmin = { port: pgPort!, user: PG_USER, password: pgPassword, database: PG_DATABASE, maxConnections: PG_MAX_CONNECTIONS };
    const stack = new DockerStack(ctx, network, endpoints, edges, toxiproxy, reference, versions, objectStore, postgres, services, runId, stackInfo, source);
    stack.dataFs = (name) => {
      const d = dataFs[name];
      if (!d) return { unavailable: `${name} keeps no data of its own` };
      return 'fs' in d ? { path: d.path, sizeMB: d.fs.sizeMB } : d;
    };
    return stack;
  }

  process(name: ProcessName): StackProcess {
    const entry = () => this.service(name);
    return {
      name,
      get pid() {
        return entry().svc.pid;
      },
      get startTime() {
        return entry().svc.startTime;
      },
      signal: (sig) => entry().svc.signal(sig),
      restart: async (env) => {
        const e = entry();
        await e.svc.restart(env);
        await e.ready();
      },
    };
  }

  private service(name: ProcessName): { svc: ContainerService; ready: () => Promise<void> } {
    const e = this.services.get(name);
    if (!e) throw new Error(`stack has no container '${name}'`);
    return e;
  }

  readonly containers: ContainerControl = {
    state: (name) => this.service(name).svc.state(),
    setLimits: (name, limits) => this.service(name).svc.setLimits(limits),
    memoryUsage: (name) => this.service(name).svc.memoryUsage(),
    dataFs: (name) => this.dataFs(name),
    disconnect: (name) => this.service(name).svc.disconnect(),
    connect: (name) => this.service(name).svc.connect(),
    exec: (name, command) => this.service(name).svc.exec(command),
    ensureRunning: async (name) => {
      const { svc, ready } = this.service(name);
      if ((await svc.state()).running) return false;
      await svc.restart();
      await ready();
      return true;
    },
  };

  get networkName(): string {
    return this.network;
  }

  get workDir(): string {
    return this.ctx.workDir;
  }

  get logsDir(): string {
    return this.ctx.logsDir;
  }

  /** Container names and host pids; `stack up` prints them. */
  get pids(): { name: string; pid: number; startTime: number }[] {
    return [...this.services.values()].map(({ svc }) => ({ name: `${svc.name} (container ${svc.containerName})`, pid: svc.pid, startTime: svc.startTime }));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    // A mesh removes its own sidecars; one a failed run left is removed before the network goes.
    await Promise.allSettled([...this.sidecarContainers].map((svc) => svc.remove()));
    await DockerStack.teardown(this.ctx, this.network, this.services, this.runId, progress('stack'));
    process.off('exit', this.removeAllSync);
  }

  /** Removes every container (logs saved first) and the network, even if one fails; then the work dir. */
  private static async teardown(ctx: StackContext, network: string, services: Map<ProcessName, { svc: ContainerService }>, runId: string, log: Progress): Promise<void> {
    const results = await Promise.allSettled([...services.values()].map(({ svc }) => svc.remove()));
    results.push(...(await Promise.allSettled([docker(['network', 'rm', network]).then(() => undefined, (err: Error) => {
      if (!/not found|No such network/i.test(err.message)) throw err;
    })])));
    saveLogs(ctx.logsDir, join(reportsDir, runId, 'logs', ctx.record.id));
    unmountUnder(ctx.workDir);
    rmSync(ctx.workDir, { recursive: true, force: true });
    removeRecord(ctx.record.id);
    ctx.close();
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    log(`docker stack ${ctx.record.id} removed${failed.length ? ` (${failed.length} errors)` : ''}`);
    if (failed.length) throw new AggregateError(failed.map((f) => f.reason as Error), 'docker stack teardown had errors');
  }
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** `--images upstream`: images a registry would give; here nothing can pull them, so say which are missing. */
async function requireUpstreamImages(): Promise<void> {
  const refs = (['postgres', 'seaweedfs', 'toxiproxy', 'mlflow', 'kserve'] as const).map((c) => imageRef(c, 'upstream'));
  const missing: string[] = [];
  for (const r of refs) if (!dockerSync(['image', 'inspect', r]).ok) missing.push(r);
  if (missing.length) throw new Error(`--images upstream: ${missing.join(', ')} not present, and this machine reaches no image registry to pull them ('docker pull' them where one is reachable, or use the built images: drop --images)`);
}
