import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import { ensureImages, imageRef } from '../../images/catalog.ts';
import { KindCluster } from '../../kind/cluster.ts';
import { createInferenceService, PREDICTOR_PORT, predictorLabels, predictorSelector, rollPredictor, waitInferenceServiceReady } from '../../kind/inference-service.ts';
import { installKserve, kserveImages, type KserveImages } from '../../kind/kserve-install.ts';
import { autoscaleInferenceService } from '../../kind/autoscaler.ts';
import { installMetricsServer, metricsServerImage } from '../../kind/metrics-server.ts';
import { engineVerdicts, installNetworkPolicies, networkPoliciesImage, newConnectionsAre, restrictIngress, verdictsBetween } from '../../kind/network-policies.ts';
import { injectResourceQuota } from '../../kind/faults/resource-quota.ts';
import { killPod } from '../../kind/faults/pod-kill.ts';
import { badInferenceServiceRollout } from '../../kind/faults/bad-rollout.ts';
import { pauseNode } from '../../kind/faults/node-pause.ts';
import { isPodReady } from '../../kind/objects.ts';
import { freezeContainer, podExec, runningContainer, type PodContainer } from '../../kind/pod-control.ts';
import { deploymentPods, podSidecarPlacement, predictorPods } from '../../kind/pod-sidecar.ts';
import { reapKind } from '../../kind/reaper.ts';
import { kindToolchain } from '../../kind/toolchain.ts';
import { deployComponent, ensureNamespace, MLFLOW_PORT, mlflowSpec, NODE_PORT, postgresSpec, s3Credentials, seaweedfsSpec, servingSpec, toxiproxySpec, watchDeployment, WORKLOAD_NAMESPACE as NS, type ComponentSpec } from '../../kind/workloads.ts';
import { reportsDir } from '../../paths.ts';
import { ToxiproxyClient } from '../../toxiproxy.ts';
import { DEFAULT_CLIENT_SETTINGS, mlflowClientEnv } from '../../workloads/mlflow-client.ts';
import { timeouts } from '../../timeouts.ts';
import { pollUntil } from '../../util/poll.ts';
import { LOOPBACK } from '../../util/ports.ts';
import { progress, type Progress } from '../../util/progress.ts';
import { redact, registerSecret } from '../../util/redact.ts';
import type { FaultLog } from '../../faults/types.ts';
import { pythonPackageVersion, trainReference } from '../reference-model.ts';
import { EDGES, type DatabaseAdmin, type Edge, type EdgeName, type Endpoints, type ObjectStore, type KubernetesControl, type ProcessName, type EnvoyBuild, type SidecarHost, type ReferenceModel, type Stack, type StackProcess } from '../stack.ts';
import { imageVersions } from '../docker/engine.ts';
import { runIdOf, StackContext } from '../local/context.ts';
import { waitToxiproxyApi } from '../local/toxiproxy-server.ts';
import { KSERVE_MODEL_NAME, waitKserveReady } from '../local/kserve-server.ts';
import { ARTIFACT_BUCKET, waitMlflowReady } from '../local/mlflow-server.ts';
import { waitMlflowServingReady } from '../local/mlflow-serving.ts';
import { PIPELINE_BUCKET } from '../local/local-stack.ts';
import { PG_DATABASE, PG_MAX_CONNECTIONS, PG_USER, waitPostgresReady } from '../local/postgres.ts';
import { describeReaped } from '../local/reaper.ts';
import { processSidecarHost, SIDECARS_DIR } from '../local/sidecars.ts';
import { removeRecord } from '../local/registry.ts';
import { checkWeedShell, setBucketQuota, waitSeaweedReady } from '../local/seaweedfs.ts';

/** Each edge's proxy listens in the Toxiproxy pod on 8666 + its index, as on docker. */
const EDGE_PORT_BASE = 8666;
/** Edges a client on this machine uses: their NodePorts are published on 127.0.0.1; the others stay in the cluster. */
const HOST_EDGES: readonly EdgeName[] = ['client->mlflow', 'client->mlflow-serving', 'client->kserve', 'kfp->mlflow', 'kfp->s3'];
/** Components the stack runs as its own Deployments (KServe's predictor is the InferenceService's). */
const DEPLOYED: readonly ProcessName[] = ['toxiproxy', 'postgres', 'seaweedfs', 'mlflow', 'mlflow-serving'];

const svc = (name: string, port: number) => `${name}.${NS}.svc.cluster.local:${port}`;
const selectorOf = (name: ProcessName) => (name === 'kserve' ? predictorSelector(KSERVE_MODEL_NAME) : `app=${name}`);

export interface KindStackOptions {
  runId?: string;
  keep?: boolean;
  log?: Progress;
}

/**
 * The stack in a kind cluster: every component a Deployment in namespace `mlops-chaos` on the
 * worker, from the factory's images loaded into it (nothing is pulled), every edge a proxy in a
 * Toxiproxy pod on the cluster's own network, and KServe the real controller reconciling an
 * InferenceService whose storage initializer fetches the reference model through the kserve->s3
 * edge. What the harness uses is published on 127.0.0.1 through fixed NodePorts: the edges clients
 * go through, Toxiproxy's API, and each component's own port for readiness checks. Clients and
 * workloads run on this machine, as on the other targets, so one scenario judges all three.
 *
 * A crash is Kubernetes' own: SIGKILL ends the container and the kubelet restarts it; a restart
 * replaces the pod (its data on the node survives it); a pause freezes the container's cgroup.
 */
export class KindStack implements Stack {
  readonly target = 'kind' as const;
  /** As on docker: the object store's in-cluster address in a presigned URL means nothing here. */
  readonly clientEnv = { MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD: 'false' };
  private disposed = false;
  /** The last container seen per component: a process's pid getter is synchronous. */
  private readonly seen = new Map<ProcessName, PodContainer>();
  /** Env added by restart(env), per component, until a plain restart removes it. */
  private readonly envAdded = new Map<ProcessName, Record<string, string>>();

  private constructor(
    private readonly ctx: StackContext,
    readonly cluster: KindCluster,
    readonly endpoints: Endpoints,
    readonly edges: Record<EdgeName, Edge>,
    readonly toxiproxy: ToxiproxyClient,
    readonly reference: ReferenceModel,
    readonly versions: Record<string, string>,
    readonly objectStore: ObjectStore,
    readonly postgres: DatabaseAdmin,
    private readonly ready: Map<ProcessName, () => Promise<void>>,
    private readonly runId: string,
  ) {}

  get id(): string {
    return this.ctx.record.id;
  }

  get faultLog(): FaultLog {
    return this.ctx.faultLog;
  }

  get workDir(): string {
    return this.ctx.workDir;
  }

  get logsDir(): string {
    return this.ctx.logsDir;
  }

  get pids(): { name: string; pid: number; startTime: number }[] {
    return [...this.seen].map(([name, c]) => ({ name: `${name} (pod ${NS}/${c.pod}, cluster ${this.cluster.name})`, pid: c.pid, startTime: c.startTime }));
  }

  static async start(opts: KindStackOptions = {}): Promise<KindStack> {
    const log = opts.log ?? progress('stack');
    const tool = kindToolchain();
    if ('missing' in tool) throw new Error(`the kind target cannot start: ${tool.missing}`);
    const kimages = kserveImages();
    if ('missing' in kimages) throw new Error(`the kind target cannot start: ${kimages.missing}`);
    for (const r of await reapKind()) log(describeReaped(r));
    await ensureImages(['postgres', 'seaweedfs', 'toxiproxy', 'mlflow', 'kserve'], { log: progress('images') });

    const runId = runIdOf(opts.runId);
    const ctx = StackContext.open(opts.keep ?? false);
    const t0 = Date.now();
    const step = (m: string) => log(`${m} (+${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    const hostEdgePorts = HOST_EDGES.map((e) => NODE_PORT.edgeBase + EDGES.indexOf(e));
    let cluster: KindCluster | undefined;
    try {
      cluster = await KindCluster.create({
        keep: opts.keep ?? false, say: log,
        nodePorts: [NODE_PORT.toxiproxyApi, NODE_PORT.postgres, NODE_PORT.s3, NODE_PORT.mlflow, NODE_PORT.serving, NODE_PORT.kserve, NODE_PORT.sidecarAdmin, ...hostEdgePorts],
        // A server sidecar's files, seen by its pod through the node (pod-sidecar.ts).
        mounts: [ctx.dir(SIDECARS_DIR)],
      });
      const stack = await KindStack.bringUp(ctx, cluster, kimages, runId, step);
      return stack;
    } catch (err) {
      if (cluster) await KindStack.teardown(ctx, cluster, runId, log).catch(() => undefined);
      else {
        rmSync(ctx.workDir, { recursive: true, force: true });
        removeRecord(ctx.record.id);
        ctx.close();
      }
      throw err;
    }
  }

  private static async bringUp(ctx: StackContext, cluster: KindCluster, kimages: KserveImages, runId: string, step: Progress): Promise<KindStack> {
    const worker = `${cluster.name}-worker`;
    const images = { postgres: imageRef('postgres'), seaweedfs: imageRef('seaweedfs'), toxiproxy: imageRef('toxiproxy'), mlflow: imageRef('mlflow'), kserve: imageRef('kserve') };
    await cluster.loadImages([...Object.values(images), kimages.controller, kimages.storageInitializer], [worker]);
    step(`images loaded into ${worker}`);
    const kserveInstalled = installKserve(cluster, kimages, step);
    kserveInstalled.catch(() => undefined);
    await ensureNamespace(cluster, NS);
    const hostPort = (nodePort: number) => Number(new URL(cluster.nodePortUrl(nodePort)).port);
    const ready = new Map<ProcessName, () => Promise<void>>();
    const deploy = async (spec: ComponentSpec, isReady: (w: ReturnType<typeof watchDeployment>) => Promise<void>) => {
      await deployComponent(cluster, NS, spec);
      const name = spec.name as ProcessName;
      const check = async () => {
        const w = watchDeployment(cluster, NS, name);
        try {
          await isReady(w);
        } finally {
          w.stop();
        }
      };
      await check();
      ready.set(name, check);
    };

    // --- Toxiproxy and the edges
    const edgePorts = EDGES.map((_, i) => EDGE_PORT_BASE + i);
    const toxiproxy = new ToxiproxyClient(cluster.nodePortUrl(NODE_PORT.toxiproxyApi));
    await deploy(toxiproxySpec(images.toxiproxy, edgePorts), (w) => waitToxiproxyApi(toxiproxy, w, 'Toxiproxy API (in the cluster)'));
    ctx.record.toxiproxyApi = toxiproxy.apiUrl;
    ctx.save();
    const upstreams: Record<EdgeName, string> = {
      'client->mlflow': svc('mlflow', MLFLOW_PORT),
      'mlflow->postgres': svc('postgres', 5432),
      'mlflow->s3': svc('seaweedfs', 8333),
      'client->mlflow-serving': svc('mlflow-serving', 5001),
      'mlflow-serving->mlflow': svc('mlflow', MLFLOW_PORT),
      // The InferenceService's own Service, which KServe makes for its predictor.
      'client->kserve': svc(`${KSERVE_MODEL_NAME}-predictor`, 80),
      'kserve->s3': svc('seaweedfs', 8333),
      'kfp->mlflow': svc('mlflow', MLFLOW_PORT),
      'kfp->s3': svc('seaweedfs', 8333),
    };
    const edges = {} as Record<EdgeName, Edge>;
    for (const [i, name] of EDGES.entries()) {
      const inner = EDGE_PORT_BASE + i;
      const listen = HOST_EDGES.includes(name) ? `${LOOPBACK}:${hostPort(NODE_PORT.edgeBase + i)}` : `toxiproxy.${NS}.svc:${inner}`;
      const edge: Edge = { name, proxy: name.replace('->', '_to_'), listen, upstream: upstreams[name] };
      await toxiproxy.createProxy(edge.proxy, `0.0.0.0:${inner}`, edge.upstream);
      edges[name] = edge;
    }
    const url = (e: EdgeName) => `http://${edges[e].listen}`;
    step(`toxiproxy ${await toxiproxy.version()} ready, ${EDGES.length} edges`);

    // --- PostgreSQL and SeaweedFS
    const pgPassword = registerSecret(randomBytes(18).toString('base64url'));
    const pgPort = hostPort(NODE_PORT.postgres);
    const credentials = s3Credentials();
    const s3Access = { s3Url: cluster.nodePortUrl(NODE_PORT.s3), credentials };
    await Promise.all([
      deploy(postgresSpec(images.postgres, { user: PG_USER, password: pgPassword, database: PG_DATABASE, maxConnections: PG_MAX_CONNECTIONS }), (w) => waitPostgresReady(w, pgPort, pgPassword)).then(() => step('postgres ready')),
      deploy(seaweedfsSpec(images.seaweedfs, credentials), (w) => waitSeaweedReady(w, s3Access, [ARTIFACT_BUCKET, PIPELINE_BUCKET])).then(() => step('seaweedfs ready')),
    ]);

    // --- MLflow tracking server, its database and object store each through its edge
    const s3Secret = { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey };
    const mlflowDirect = cluster.nodePortUrl(NODE_PORT.mlflow);
    await deploy(mlflowSpec(images.mlflow, NS, {
      backendStoreUri: `postgresql+psycopg2://${PG_USER}@${edges['mlflow->postgres'].listen}/${PG_DATABASE}`,
      s3Url: url('mlflow->s3'),
      secretEnv: { ...s3Secret, PGPASSWORD: pgPassword },
      allowedHosts: [`toxiproxy.${NS}.svc:*`],
    }), (w) => waitMlflowReady(w, mlflowDirect));
    step('mlflow tracking server ready');

    const reference = await trainReference(ctx.dir('reference'), join(ctx.logsDir, 'reference-model.log'), url('client->mlflow'), ARTIFACT_BUCKET);
    step(`reference model ${reference.modelName} v${reference.version} registered, alias ${reference.alias}`);

    // --- Serving: MLflow's scoring server, and KServe's InferenceService
    const servingEnv = Object.fromEntries(Object.entries(mlflowClientEnv(url('mlflow-serving->mlflow'), DEFAULT_CLIENT_SETTINGS, '/tmp')).filter((e): e is [string, string] => e[1] !== undefined && e[0] !== 'PATH' && e[0] !== 'HOME'));
    const serving = deploy(servingSpec(images.mlflow, reference.modelUri, servingEnv, {}), (w) => waitMlflowServingReady(w, cluster.nodePortUrl(NODE_PORT.serving)));
    serving.catch(() => undefined);
    await kserveInstalled;
    await createInferenceService(cluster, { name: KSERVE_MODEL_NAME, namespace: NS, image: images.kserve, storageUri: reference.s3Uri, s3Endpoint: edges['kserve->s3'].listen, credentials });
    // The predictor's own port published, for readiness checks that bypass the client->kserve edge.
    await cluster.core.createNamespacedService({
      namespace: NS,
      body: { metadata: { name: 'kserve-direct' }, spec: { type: 'NodePort', selector: predictorLabels(KSERVE_MODEL_NAME), ports: [{ port: PREDICTOR_PORT, targetPort: PREDICTOR_PORT, nodePort: NODE_PORT.kserve }] } },
    });
    const kserveDirect = cluster.nodePortUrl(NODE_PORT.kserve);
    const kserveReady = async () => {
      await waitInferenceServiceReady(cluster, KSERVE_MODEL_NAME, NS);
      await waitKserveReady({ failOnExit: () => new Promise<never>(() => undefined) }, kserveDirect);
    };
    await kserveReady();
    ready.set('kserve', kserveReady);
    await serving;
    step('mlflow serving and the InferenceService ready');

    const endpoints: Endpoints = { mlflow: url('client->mlflow'), mlflowServing: url('client->mlflow-serving'), kserve: url('client->kserve'), kfpMlflow: url('kfp->mlflow'), kfpS3: url('kfp->s3'), mlflowDirect };
    ctx.record.endpoints = { ...endpoints };
    ctx.save();
    const versions: Record<string, string> = {
      ...(await imageVersions(Object.values(images))),
      'mlflow-client-2': pythonPackageVersion('mlflow2', 'mlflow'),
      kfp: pythonPackageVersion('kfp', 'kfp'),
      xgboost: pythonPackageVersion('mlflow3', 'xgboost_cpu'),
      kubernetes: cluster.tool.kubernetesVersion,
      kind: cluster.tool.kindVersion,
      'kserve-controller': kimages.version,
    };
    for (const [name, ref] of Object.entries(images)) versions[`image:${name}`] = ref;
    versions['image:kserve-controller'] = kimages.controller;
    versions['image:kserve-storage-initializer'] = kimages.storageInitializer;
    const weedShell = async (commands: string[]) => {
      const pod = (await runningContainer(cluster, NS, 'app=seaweedfs')).pod;
      return checkWeedShell(commands, 0, await podExec(cluster, NS, pod, 'seaweedfs', ['weed', 'shell', '-master=127.0.0.1:9333'], `${commands.join('\n')}\nexit\n`), '');
    };
    const objectStore: ObjectStore = {
      url: s3Access.s3Url, credentials, artifactBucket: ARTIFACT_BUCKET, pipelineBucket: PIPELINE_BUCKET,
      setQuota: (bucket, sizeMB) => setBucketQuota(weedShell, { url: s3Access.s3Url, credentials }, bucket, sizeMB),
    };
    const postgres: DatabaseAdmin = { port: pgPort, user: PG_USER, password: pgPassword, database: PG_DATABASE, maxConnections: PG_MAX_CONNECTIONS };
    const stack = new KindStack(ctx, cluster, endpoints, edges, toxiproxy, reference, versions, objectStore, postgres, ready, runId);
    for (const name of [...DEPLOYED, 'kserve' as const]) await stack.look(name);
    return stack;
  }

  /** The component's running container now (and remembered for the pid getters). */
  private async look(name: ProcessName): Promise<PodContainer> {
    const c = await runningContainer(this.cluster, NS, selectorOf(name));
    this.seen.set(name, c);
    return c;
  }

  process(name: ProcessName): StackProcess {
    const seen = () => {
      const c = this.seen.get(name);
      if (!c) throw new Error(`stack has no component '${name}'`);
      return c;
    };
    return {
      name,
      get pid() {
        return seen().pid;
      },
      get startTime() {
        return seen().startTime;
      },
      signal: async (sig) => {
        if (sig === 'SIGCONT') return freezeContainer(seen().id, false);
        const c = await this.look(name);
        if (sig === 'SIGSTOP') return freezeContainer(c.id, true);
        // Its first process: the container ends with it, and the kubelet starts it again.
        process.kill(c.pid, 'SIGKILL');
      },
      restart: (env) => this.restart(name, env),
    };
  }

  /**
   * Stops it and starts it again, and waits until it is ready. With `env` (or to drop an earlier
   * `env`), its Deployment's pod template changes and Kubernetes rolls out a new pod; without, its
   * pod is deleted and the Deployment makes a new one (KServe's predictor: the InferenceService's).
   */
  private async restart(name: ProcessName, env?: Record<string, string>): Promise<void> {
    // A frozen container is thawed first, as docker's restart unpauses: a frozen process cannot stop.
    const last = this.seen.get(name);
    if (last) await freezeContainer(last.id, false).catch(() => undefined);
    if (env || this.envAdded.has(name)) {
      const vars = Object.entries(env ?? {}).map(([k, value]) => ({ name: k, value }));
      if (name === 'kserve') {
        // KServe owns the predictor's Deployment: the environment goes in the InferenceService's model
        // spec (the suite's ServingRuntime sets none), and KServe rolls out the new pod.
        await rollPredictor(this.cluster, KSERVE_MODEL_NAME, NS, { model: { env: vars.length ? vars : null } }, vars.length ? `with ${vars.map((v) => v.name).join(', ')} set` : 'without the added environment');
      } else {
        const dep = await this.cluster.apps.readNamespacedDeployment({ name, namespace: NS });
        const container = dep.spec!.template.spec!.containers[0]!;
        const added = new Set(Object.keys(this.envAdded.get(name) ?? {}));
        container.env = [...(container.env ?? []).filter((e) => !added.has(e.name)), ...vars];
        await this.cluster.apps.replaceNamespacedDeployment({ name, namespace: NS, body: dep });
        await this.rolledOut(name);
      }
      if (env) this.envAdded.set(name, env);
      else this.envAdded.delete(name);
    } else {
      const before = (await this.pods(name)).map((p) => p.metadata!.name!);
      for (const pod of before) await this.cluster.core.deleteNamespacedPod({ name: pod, namespace: NS, gracePeriodSeconds: 2 }).catch(() => undefined);
      await pollUntil(`a new ready pod for ${name}`, timeouts.podReady, async () => {
        const pods = await this.pods(name);
        const fresh = pods.filter((p) => !before.includes(p.metadata!.name!) && isPodReady(p));
        return fresh.length ? { done: true, value: undefined } : { done: false, note: `${pods.length} pods, none new and ready` };
      });
    }
    await this.ready.get(name)?.();
    await this.look(name);
  }

  /** metrics-server, installed the first time a scenario asks for an autoscaler. */
  private metricsServer: Promise<void> | undefined;

  /** kube-network-policies, installed the first time a scenario cuts a link with a NetworkPolicy. */
  private networkPolicies: Promise<void> | undefined;

  readonly kubernetes: KubernetesControl = {
    autoscale: async (spec) => {
      if (spec.component !== 'kserve') throw new Error(`autoscale: only KServe's InferenceService makes an autoscaler here, not ${spec.component}`);
      this.metricsServer ??= (async () => {
        const img = metricsServerImage();
        if ('missing' in img) throw new Error(`autoscale needs metrics-server: ${img.missing}`);
        const worker = `${this.cluster.name}-worker`;
        await this.cluster.loadImages([img.image], [worker]);
        await installMetricsServer(this.cluster, img, worker, NS);
        progress('stack')(`metrics-server ${img.version} reports the pods of ${NS}`);
      })();
      // A failed install is not remembered: the next scenario that asks tries again.
      await this.metricsServer.catch((e: unknown) => {
        this.metricsServer = undefined;
        throw e;
      });
      const active = await autoscaleInferenceService(this.cluster, KSERVE_MODEL_NAME, NS, spec);
      await this.look('kserve');
      return {
        ...active,
        stop: async () => {
          const samples = await active.stop();
          await this.ready.get('kserve')?.();
          await this.look('kserve');
          return samples;
        },
      };
    },
    restrictIngress: async (name, admitEdge) => {
      // The cut is confirmed the way the fault acts: a new connection through the client's edge.
      const edgeUrl: Partial<Record<ProcessName, string>> = { kserve: this.endpoints.kserve, mlflow: this.endpoints.mlflow, 'mlflow-serving': this.endpoints.mlflowServing };
      const url = edgeUrl[name];
      if (!url) throw new Error(`network-policy: a cut is confirmed through the client's edge to the component, and ${name} has none (allowed: ${Object.keys(edgeUrl).join(', ')})`);
      this.networkPolicies ??= (async () => {
        const img = networkPoliciesImage();
        if ('missing' in img) throw new Error(`network-policy needs its engine: ${img.missing}`);
        await this.cluster.loadImages([img.image]);
        await installNetworkPolicies(this.cluster, img);
        progress('stack')(`kube-network-policies ${img.version} runs on every node`);
      })();
      // A failed install is not remembered: the next scenario that asks tries again.
      await this.networkPolicies.catch((e: unknown) => {
        this.networkPolicies = undefined;
        throw e;
      });
      const nodes = await this.cluster.nodes();
      const before = await engineVerdicts(nodes);
      const created = Date.now();
      const policy = await restrictIngress(this.cluster, NS, name === 'kserve' ? predictorLabels(KSERVE_MODEL_NAME) : { app: name }, admitEdge ? { app: 'toxiproxy' } : undefined);
      try {
        await newConnectionsAre(url, admitEdge ? 'answered' : 'cut');
      } catch (e) {
        await policy.undo();
        throw e;
      }
      const activeAt = Date.now();
      let judged = '';
      return {
        activeAt,
        // Read when the results are written: by then the revert has read what the engine decided.
        get note() {
          return `${policy.describe}; a new connection through the edge first ${admitEdge ? 'answered' : 'got no answer'} ${((activeAt - created) / 1000).toFixed(1)} s after it was created${judged}`;
        },
        undo: async () => {
          const during = await engineVerdicts(nodes).catch((e: Error) => e);
          await policy.undo();
          await newConnectionsAre(url, 'answered');
          judged = during instanceof Error ? `; the engine's counts could not be read (${during.message})` : `; while it stood, the engine judged the first packets of new connections: ${verdictsBetween(before, during)}`;
        },
      };
    },
    blockNewPods: async (below) => {
      const q = await injectResourceQuota(this.cluster.core, NS, below);
      return { undo: q.undo, note: q.note };
    },
    rollOutBroken: async (name) => {
      if (name !== 'kserve') throw new Error(`bad-rollout: only kserve's InferenceService has a revision to break here, not ${name}`);
      return badInferenceServiceRollout(this.cluster, KSERVE_MODEL_NAME, NS, selectorOf(name));
    },
    deletePod: async (name) => {
      const k = await killPod(this.cluster.core, NS, selectorOf(name));
      let measured = '';
      return {
        get note() {
          return `${k.note}${measured}`;
        },
        undo: async () => {
          const r = await k.replaced();
          measured = `; replacement ${r.pod} ready ${(r.readyAfterMs / 1000).toFixed(1)} s after the delete`;
          await this.ready.get(name)?.();
          await this.look(name);
        },
      };
    },
    freezeNode: async (name) => {
      const pod = (await this.pods(name)).find((p) => !p.metadata?.deletionTimestamp && p.spec?.nodeName);
      if (!pod) throw new Error(`node-pause: ${name} has no pod on a node`);
      const node = pod.spec!.nodeName!;
      // Every component with a pod on that node stops with it (here the one worker holds them all).
      const components: ProcessName[] = [];
      for (const c of [...DEPLOYED, 'kserve' as const]) if ((await this.pods(c)).some((p) => p.spec?.nodeName === node)) components.push(c);
      const readyOf = async () => (await this.cluster.core.readNode({ name: node })).status?.conditions?.find((c) => c.type === 'Ready');
      const frozen = await pauseNode(this.cluster.name, node);
      const frozenAt = Date.now();
      let measured = '';
      return {
        get note() {
          return `${frozen.note}; on it: ${components.join(', ')}${measured}`;
        },
        undo: async () => {
          // The node controller's verdict, read before the thaw: when (if) it stopped calling the node Ready.
          const ready = await readyOf();
          const since = ready?.lastTransitionTime ? new Date(ready.lastTransitionTime).getTime() : NaN;
          measured = ready?.status !== 'True' && since >= frozenAt - 1_000
            ? `; the API server marked it ${ready?.status === 'Unknown' ? 'Unknown' : 'not Ready'} ${((since - frozenAt) / 1000).toFixed(0)} s after the freeze (${ready?.reason ?? 'no reason'})`
            : '; the API server still called it Ready when it was thawed';
          await frozen.undo();
          await pollUntil(`node ${node} to be Ready again`, timeouts.kindReady, async () => {
            const c = await readyOf();
            return c?.status === 'True' ? { done: true, value: undefined } : { done: false, note: `Ready=${c?.status ?? 'absent'}` };
          });
          for (const c of components) {
            await pollUntil(`${c}'s pod to be ready again on ${node}`, timeouts.podReady, async () => ((await this.pods(c)).some(isPodReady) ? { done: true, value: undefined } : { done: false }));
            await this.ready.get(c)?.();
            await this.look(c);
          }
        },
      };
    },
  };

  /** Envoy builds whose image this cluster's worker has. */
  private readonly envoyLoaded = new Set<EnvoyBuild>();

  /**
   * Beside the client (the harness, on this machine): a process on loopback, as on every target.
   * Beside a server: a container in its pod (pod-sidecar.ts), KServe's predictor's or MLflow's
   * tracking server's.
   */
  get sidecars(): SidecarHost {
    return {
      ...processSidecarHost(this.ctx),
      besideServer: async (name, server) => {
        const owner = server === 'kserve' ? predictorPods(this.cluster, KSERVE_MODEL_NAME, NS) : server === 'mlflow' ? deploymentPods(this.cluster, 'mlflow', NS) : undefined;
        if (!owner) throw new Error(`on kind a server sidecar goes in KServe's predictor pod or MLflow's tracking server pod, not beside ${server}`);
        // The server's container is a new one after each roll: the stack's view of it follows.
        const pods = { ...owner, roll: async (...a: Parameters<typeof owner.roll>) => { await owner.roll(...a); await this.look(server); } };
        return podSidecarPlacement({
          cluster: this.cluster, namespace: NS, pods, adminNodePort: NODE_PORT.sidecarAdmin, serverPort: server === 'kserve' ? PREDICTOR_PORT : MLFLOW_PORT,
          image: async (envoy) => {
            const ref = imageRef(envoy);
            if (!this.envoyLoaded.has(envoy)) {
              await ensureImages([envoy], { log: progress('images') });
              await this.cluster.loadImages([ref], [`${this.cluster.name}-worker`]);
              this.envoyLoaded.add(envoy);
            }
            return ref;
          },
        }, name);
      },
    };
  }

  private async pods(name: ProcessName): Promise<V1Pod[]> {
    return (await this.cluster.core.listNamespacedPod({ namespace: NS, labelSelector: selectorOf(name) })).items;
  }

  private async rolledOut(name: string): Promise<void> {
    await pollUntil(`Deployment ${name} to roll out`, timeouts.podReady, async () => {
      const d = await this.cluster.apps.readNamespacedDeployment({ name, namespace: NS });
      const s = d.status;
      const done = (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && s?.updatedReplicas === 1 && s?.availableReplicas === 1 && s?.replicas === 1;
      return done ? { done: true, value: undefined } : { done: false, note: `updated ${s?.updatedReplicas ?? 0}, available ${s?.availableReplicas ?? 0}, total ${s?.replicas ?? 0}` };
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await KindStack.teardown(this.ctx, this.cluster, this.runId, progress('stack'));
  }

  /** Saves every pod's log (redacted; a restarted container's previous log too), then deletes the cluster unless kept, and the work dir. */
  private static async teardown(ctx: StackContext, cluster: KindCluster, runId: string, log: Progress): Promise<void> {
    const dir = join(reportsDir, runId, 'logs', ctx.record.id);
    mkdirSync(dir, { recursive: true });
    const pods = await cluster.core.listNamespacedPod({ namespace: NS }).then((l) => l.items, () => [] as V1Pod[]);
    for (const p of pods) {
      const name = p.metadata?.name ?? '';
      for (const c of p.spec?.containers ?? []) {
        for (const previous of [true, false]) {
          const text = await cluster.core.readNamespacedPodLog({ name, namespace: NS, container: c.name, previous, timestamps: true }).catch(() => '');
          if (text) writeFileSync(join(dir, `${name}${c.name === (p.metadata?.labels?.app ?? c.name) ? '' : `-${c.name}`}${previous ? '-previous' : ''}.log`), redact(text));
        }
      }
    }
    let failed: unknown;
    await cluster[Symbol.asyncDispose]().catch((e: unknown) => (failed = e));
    rmSync(ctx.workDir, { recursive: true, force: true });
    removeRecord(ctx.record.id);
    ctx.close();
    log(`kind stack ${ctx.record.id} ${cluster.keep ? `left running (cluster ${cluster.name} kept)` : `removed with cluster ${cluster.name}`}${failed ? ` (error: ${(failed as Error).message})` : ''}`);
    if (failed) throw failed;
  }
}
