import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportsDir } from '../../paths.ts';
import { ToxiproxyClient } from '../../toxiproxy.ts';
import { pythonPackageVersion, trainReference } from '../reference-model.ts';
import { freePorts, LOOPBACK } from '../../util/ports.ts';
import { progress, type Progress } from '../../util/progress.ts';
import { redact } from '../../util/redact.ts';
import { processSidecarHost } from './sidecars.ts';
import { EDGES, type Edge, type EdgeName, type Endpoints, type ObjectStore, type ProcessName, type ReferenceModel, type SidecarHost, type Stack, type StackProcess } from '../stack.ts';
import type { FaultLog } from '../../faults/types.ts';
import { runIdOf, StackContext } from './context.ts';
import { startKserve, waitKserveReady } from './kserve-server.ts';
import type { ManagedProcess } from './managed-process.ts';
import { ARTIFACT_BUCKET, startMlflowServer, waitMlflowReady } from './mlflow-server.ts';
import { startMlflowServing, waitMlflowServingReady } from './mlflow-serving.ts';
import { startPostgres, waitPostgresReady, type Postgres } from './postgres.ts';
import { describeReaped, reapStale, removeStackFiles } from './reaper.ts';
import { removeRecord } from './registry.ts';
import { launchSeaweedFs, localWeedShell, SEAWEED_PORT_COUNT, seaweedGrpcSockets, seaweedPorts, setBucketQuota, waitSeaweedReady } from './seaweedfs.ts';
import { startToxiproxy } from './toxiproxy-server.ts';
import { overriddenVersions, type VenvOverrides } from '../venv-overrides.ts';

export const PIPELINE_BUCKET = 'pipelines';

export interface LocalStackOptions {
  /** Survive the owning process (`stack up`); only `stack down` stops it. */
  keep?: boolean;
  /** reports/<runId>/logs receives every process's log at teardown. */
  runId?: string;
  mlflowWorkers?: number;
  mlflowServerEnv?: Record<string, string>;
  /** Per-role venvs (an upgrade run's side); the stack is otherwise the same. */
  venvs?: VenvOverrides;
  log?: Progress;
}

/** Every process of the stack is a real one; this is what it takes to bring it back after a kill. */
interface Component {
  proc: ManagedProcess;
  ready: (proc: ManagedProcess) => Promise<void>;
}

export class LocalStack implements Stack {
  readonly target = 'local' as const;
  private disposed = false;

  private constructor(
    private readonly ctx: StackContext,
    readonly endpoints: Endpoints,
    readonly edges: Record<EdgeName, Edge>,
    readonly toxiproxy: ToxiproxyClient,
    readonly reference: ReferenceModel,
    readonly versions: Record<string, string>,
    readonly objectStore: ObjectStore,
    readonly postgres: Postgres,
    private readonly components: Map<ProcessName, Component>,
    private readonly runId: string,
    readonly venvs?: VenvOverrides,
  ) {}

  get id(): string {
    return this.ctx.record.id;
  }

  get workDir(): string {
    return this.ctx.workDir;
  }

  readonly clientEnv = {};

  get sidecars(): SidecarHost {
    return processSidecarHost(this.ctx);
  }

  get faultLog(): FaultLog {
    return this.ctx.faultLog;
  }

  get logsDir(): string {
    return this.ctx.logsDir;
  }

  /** Brings the whole stack up; on any failure tears down what it started and rethrows. */
  static async start(opts: LocalStackOptions = {}): Promise<LocalStack> {
    const log = opts.log ?? progress('stack');
    for (const r of await reapStale()) log(describeReaped(r));

    const runId = runIdOf(opts.runId);
    const ctx = StackContext.open(opts.keep ?? false);
    try {
      return await LocalStack.bringUp(ctx, opts, runId, log);
    } catch (err) {
      await LocalStack.teardown(ctx, runId, log);
      throw err;
    }
  }

  private static async bringUp(ctx: StackContext, opts: LocalStackOptions, runId: string, log: Progress): Promise<LocalStack> {
    const t0 = Date.now();
    const step = (m: string) => log(`${m} (+${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    const [toxiPort, pgPort, mlflowPort, servingPort, kservePort, ...rest] = await freePorts(5 + SEAWEED_PORT_COUNT + EDGES.length);
    const weedPorts = seaweedPorts(rest.slice(0, SEAWEED_PORT_COUNT));
    ctx.record.files = seaweedGrpcSockets(weedPorts);
    ctx.save();
    const edgePorts = rest.slice(SEAWEED_PORT_COUNT);
    const addr = (p: number | undefined) => `${LOOPBACK}:${p}`;

    const toxi = await startToxiproxy(ctx, toxiPort!);
    ctx.record.toxiproxyApi = toxi.client.apiUrl;
    ctx.save();
    step(`toxiproxy ${toxi.version} ready`);

    const upstreams: Record<EdgeName, number> = {
      'client->mlflow': mlflowPort!,
      'mlflow->postgres': pgPort!,
      'mlflow->s3': weedPorts.s3,
      'client->mlflow-serving': servingPort!,
      'mlflow-serving->mlflow': mlflowPort!,
      'client->kserve': kservePort!,
      'kserve->s3': weedPorts.s3,
      'kfp->mlflow': mlflowPort!,
      'kfp->s3': weedPorts.s3,
    };
    const edges = {} as Record<EdgeName, Edge>;
    for (const [i, name] of EDGES.entries()) {
      const edge: Edge = { name, proxy: name.replace('->', '_to_'), listen: addr(edgePorts[i]), upstream: addr(upstreams[name]) };
      await toxi.client.createProxy(edge.proxy, edge.listen, edge.upstream);
      edges[name] = edge;
    }
    const url = (e: EdgeName) => `http://${edges[e].listen}`;

    const s3 = launchSeaweedFs(ctx, weedPorts);
    const seaweedReady = (p: ManagedProcess) => waitSeaweedReady(p, s3, [ARTIFACT_BUCKET, PIPELINE_BUCKET]);
    const s3Ready = seaweedReady(s3.process).then(() => step(`seaweedfs ${s3.version} ready`));
    s3Ready.catch(() => undefined); // awaited below; a failure while Postgres starts must not go unhandled
    const pg = await startPostgres(ctx, pgPort!);
    step(`postgres ${pg.version} ready`);

    const mlflowDirect = `http://${addr(mlflowPort)}`;
    const components = new Map<ProcessName, Component>();
    const noop = async () => undefined;
    components.set('toxiproxy', { proc: toxi.process, ready: noop });
    components.set('postgres', { proc: pg.process, ready: (p) => waitPostgresReady(p, pg.port, pg.password) });
    components.set('seaweedfs', { proc: s3.process, ready: seaweedReady });

    const mlflow = startMlflowServer(ctx, pg, s3, {
      port: mlflowPort!,
      postgresEdge: edges['mlflow->postgres'].listen,
      s3Edge: url('mlflow->s3'),
      workers: opts.mlflowWorkers ?? 2,
      env: opts.mlflowServerEnv,
      venvs: opts.venvs,
    });
    const mlflowReady = (p: ManagedProcess) => waitMlflowReady(p, mlflowDirect);
    // The tracking server needs the database to start, the object store only when an artifact
    // moves: it starts while SeaweedFS (about 7 s) makes its buckets, not after.
    await Promise.all([mlflowReady(mlflow), s3Ready]);
    components.set('mlflow', { proc: mlflow, ready: mlflowReady });
    step('mlflow tracking server ready');

    const reference = await trainReference(ctx.dir('reference'), join(ctx.logsDir, 'reference-model.log'), url('client->mlflow'), ARTIFACT_BUCKET);
    step(`reference model ${reference.modelName} v${reference.version} registered, alias ${reference.alias}`);

    const serving = startMlflowServing(ctx, { port: servingPort!, modelUri: reference.modelUri, trackingEdge: url('mlflow-serving->mlflow'), venvs: opts.venvs });
    const servingReady = (p: ManagedProcess) => waitMlflowServingReady(p, `http://${addr(servingPort)}`);
    const kserve = startKserve(ctx, { port: kservePort!, storageUri: reference.s3Uri, s3Edge: url('kserve->s3'), credentials: s3.credentials, venvs: opts.venvs });
    const kserveReady = (p: ManagedProcess) => waitKserveReady(p, `http://${addr(kservePort)}`);
    await Promise.all([servingReady(serving), kserveReady(kserve)]);
    components.set('mlflow-serving', { proc: serving, ready: servingReady });
    components.set('kserve', { proc: kserve, ready: kserveReady });
    step('mlflow serving and kserve ready');

    const endpoints = {
      mlflow: url('client->mlflow'),
      mlflowServing: url('client->mlflow-serving'),
      kserve: url('client->kserve'),
      kfpMlflow: url('kfp->mlflow'),
      kfpS3: url('kfp->s3'),
      mlflowDirect,
    };
    ctx.record.endpoints = endpoints;
    ctx.save();
    const versions = {
      mlflow: pythonPackageVersion('mlflow3', 'mlflow'),
      'mlflow-client-2': pythonPackageVersion('mlflow2', 'mlflow'),
      kserve: pythonPackageVersion('kserve', 'kserve'),
      kfp: pythonPackageVersion('kfp', 'kfp'),
      xgboost: pythonPackageVersion('mlflow3', 'xgboost_cpu'),
      postgres: pg.version,
      seaweedfs: s3.version,
      toxiproxy: toxi.version,
      // What an upgrade run swapped, so its results and the comparison's header say so.
      ...overriddenVersions(opts.venvs),
    };
    const objectStore: ObjectStore = {
      url: s3.s3Url, credentials: s3.credentials, artifactBucket: ARTIFACT_BUCKET, pipelineBucket: PIPELINE_BUCKET,
      setQuota: (bucket, sizeMB) => setBucketQuota(localWeedShell(s3), { url: s3.s3Url, credentials: s3.credentials }, bucket, sizeMB),
    };
    return new LocalStack(ctx, endpoints, edges, toxi.client, reference, versions, objectStore, pg, components, runId, opts.venvs);
  }

  private readonly baseSpecs = new Map<ProcessName, ManagedProcess['spec']>();

  process(name: ProcessName): StackProcess {
    const stack = this;
    const component = () => {
      const c = stack.components.get(name);
      if (!c) throw new Error(`stack has no process '${name}'`);
      return c;
    };
    return {
      name,
      get pid() {
        return component().proc.pid;
      },
      get startTime() {
        return component().proc.startTime;
      },
      async signal(sig) {
        component().proc.signal(sig);
      },
      async restart(env) {
        const c = component();
        await c.proc.stop();
        // Overrides last for this incarnation only: the next restart starts from the original spec.
        const base = stack.baseSpecs.get(name) ?? c.proc.spec;
        stack.baseSpecs.set(name, base);
        const proc = stack.ctx.start(env ? { ...base, env: { ...base.env, ...env } } : base);
        stack.components.set(name, { proc, ready: c.ready });
        await c.ready(proc);
      },
    };
  }

  /** Names and pids of every running process; used by tests that prove nothing is left. */
  get pids(): { name: string; pid: number; startTime: number }[] {
    return this.ctx.record.processes.map((p) => ({ ...p }));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await LocalStack.teardown(this.ctx, this.runId, progress('stack'));
  }

  /** Stops every process (all of them, even if one fails), saves redacted logs, removes the work dir. */
  private static async teardown(ctx: StackContext, runId: string, log: Progress): Promise<void> {
    const results = await Promise.allSettled([...ctx.processes.values()].map((p) => p.stop()));
    saveLogs(ctx.logsDir, join(reportsDir, runId, 'logs', ctx.record.id));
    rmSync(ctx.workDir, { recursive: true, force: true });
    removeStackFiles(ctx.record.files);
    removeRecord(ctx.record.id);
    ctx.close();
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    log(`stack ${ctx.record.id} stopped${failed.length ? ` (${failed.length} stop errors)` : ''}`);
    if (failed.length) throw new AggregateError(failed.map((f) => f.reason as Error), 'stack teardown had errors');
  }
}

/** Copies every process log, secrets redacted, to where reports and failing tests pick them up. */
export function saveLogs(from: string, to: string): void {
  let files: string[];
  try {
    files = readdirSync(from);
  } catch {
    return;
  }
  mkdirSync(to, { recursive: true });
  for (const f of files) writeFileSync(join(to, f), redact(readFileSync(join(from, f), 'utf8')));
}

