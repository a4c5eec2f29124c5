import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import type { EnvoyBuild, SidecarPlacement, SidecarProcess } from '../targets/stack.ts';
import type { KindCluster } from './cluster.ts';
import { predictorLabels, rollPods, rollPredictor } from './inference-service.ts';
import { isNotFound, labelSelector } from './objects.ts';

/**
 * A server's sidecar on kind: an `istio-proxy` container in the server's pod (KServe's predictor,
 * MLflow's tracking server), where Istio's injector puts it (a native sidecar: an init container
 * with restartPolicy Always, as with ENABLE_NATIVE_SIDECARS), so it shares the server's network
 * namespace and reaches it on localhost. Adding it rolls out a new pod, as injection needs a pod
 * restart; removing it rolls out one without. Its config files are the harness's own, mounted from this machine through
 * the node (hostPath), so an xDS file written here is the file Envoy watches in the pod. The edge
 * reaches its inbound port through a Service of its own; its admin is a published NodePort.
 */

/** Istio's inbound capture port and its proxy admin port. */
const PORT = { inbound: 15006, admin: 15000 } as const;
const CONTAINER = 'istio-proxy';
/** The label the server's pods take with a sidecar. */
const SIDECAR_LABEL = 'mlops-chaos.io/sidecar';

/** What a sidecar adds to the server's pod template. */
export interface SidecarTemplate {
  labels: Record<string, string>;
  initContainers: V1Container[];
  volumes: V1Volume[];
}

/** The pods of the server a sidecar joins, and how their owner rolls out a changed template. */
export interface ServerPods {
  /** Labels that pick the server's pods (and no other). */
  labels: Record<string, string>;
  /**
   * Rolls the pods out with the sidecar's additions (null: without them again), and returns once
   * the owner's own Service and each of `routedBy` route to the new pods alone.
   */
  roll(add: SidecarTemplate | null, what: string, routedBy: string[]): Promise<void>;
}

/** KServe's predictor: KServe copies `predictor.labels`, init containers and volumes onto its pods. */
export function predictorPods(cluster: KindCluster, isvc: string, namespace: string): ServerPods {
  return {
    labels: predictorLabels(isvc),
    roll: (add, what, routedBy) =>
      rollPredictor(cluster, isvc, namespace, add ? { ...add } : { labels: null, initContainers: null, volumes: null }, what, [`${isvc}-predictor`, ...routedBy]),
  };
}

/**
 * A Deployment of the suite's own (workloads.ts: pods labelled `app=<name>`, a Service of the same
 * name): its pod template gets the sidecar's additions, and at removal loses exactly those.
 */
export function deploymentPods(cluster: KindCluster, name: string, namespace: string): ServerPods {
  let added: SidecarTemplate | null = null;
  const labels = { app: name };
  return {
    labels,
    roll: (add, what, routedBy) =>
      rollPods(cluster, namespace, labelSelector(labels), `Deployment ${namespace}/${name}`, what, [name, ...routedBy], async () => {
        const dep = await cluster.apps.readNamespacedDeployment({ name, namespace });
        const meta = (dep.spec!.template.metadata ??= {});
        const spec = dep.spec!.template.spec!;
        const was = added;
        if (was) {
          meta.labels = Object.fromEntries(Object.entries(meta.labels ?? {}).filter(([k]) => !(k in was.labels)));
          spec.initContainers = (spec.initContainers ?? []).filter((c) => !was.initContainers.some((a) => a.name === c.name));
          spec.volumes = (spec.volumes ?? []).filter((v) => !was.volumes.some((a) => a.name === v.name));
        }
        if (add) {
          meta.labels = { ...meta.labels, ...add.labels };
          spec.initContainers = [...(spec.initContainers ?? []), ...add.initContainers];
          spec.volumes = [...(spec.volumes ?? []), ...add.volumes];
        }
        await cluster.apps.replaceNamespacedDeployment({ name, namespace, body: dep });
        added = add;
      }),
  };
}

export interface PodSidecarHost {
  cluster: KindCluster;
  namespace: string;
  /** The server whose pod takes the sidecar. */
  pods: ServerPods;
  /** The NodePort published at cluster creation for the sidecar's admin. */
  adminNodePort: number;
  /** The server's port in its pod. */
  serverPort: number;
  /** Makes the Envoy build's image present on the nodes; returns its ref. */
  image(envoy: EnvoyBuild): Promise<string>;
}

/** Why the sidecar container stopped, or undefined while it runs (or has not started yet). */
function sidecarExit(pods: V1Pod[]): string | undefined {
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp) continue;
    const s = p.status?.initContainerStatuses?.find((c) => c.name === CONTAINER);
    const t = s?.state?.terminated ?? (s && s.restartCount > 0 ? s.lastState?.terminated : undefined);
    if (t) return `${p.metadata?.name}/${CONTAINER} exited ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`;
  }
  return undefined;
}

export function podSidecarPlacement(host: PodSidecarHost, name: string): SidecarPlacement {
  const { cluster, namespace } = host;
  // The sidecar's Services select only pods that carry it: the predictor's label alone would also
  // take the pod being replaced, which has nothing on these ports, and kube-proxy can keep routing to
  // it for a sync period (minSyncPeriod 1s in kind's KubeProxyConfiguration) after the rollout.
  const podLabel = { [SIDECAR_LABEL]: name };
  const selector = { ...host.pods.labels, ...podLabel };
  const serverSelector = labelSelector(host.pods.labels);
  const adminUrl = cluster.nodePortUrl(host.adminNodePort);
  const services = [
    { metadata: { name }, spec: { selector, ports: [{ name: 'inbound', port: PORT.inbound, targetPort: PORT.inbound }] } },
    { metadata: { name: `${name}-admin` }, spec: { type: 'NodePort', selector, ports: [{ name: 'admin', port: PORT.admin, targetPort: PORT.admin, nodePort: host.adminNodePort }] } },
  ];
  return {
    listen: { host: '0.0.0.0', port: PORT.inbound },
    admin: { host: '0.0.0.0', port: PORT.admin },
    reachableAt: `${name}.${namespace}.svc.cluster.local:${PORT.inbound}`,
    adminUrl,
    server: { host: '127.0.0.1', port: host.serverPort },
    start: async (envoy, args, dirs) => {
      const image = await host.image(envoy);
      const removeServices = async () => {
        for (const s of services) await cluster.core.deleteNamespacedService({ name: s.metadata.name, namespace }).catch((e: unknown) => { if (!isNotFound(e)) throw e; });
      };
      let stopped = false;
      let lastLog = '';
      const pods = async () => (await cluster.core.listNamespacedPod({ namespace, labelSelector: serverSelector })).items;
      const remove = async () => {
        stopped = true;
        try {
          await host.pods.roll(null, `without the ${name} sidecar`, []);
        } finally {
          await removeServices();
        }
      };
      try {
        for (const s of services) await cluster.core.createNamespacedService({ namespace, body: s });
        await host.pods.roll({
          labels: podLabel,
          initContainers: [{
            name: CONTAINER, image, imagePullPolicy: 'Never', restartPolicy: 'Always', args,
            ports: [{ name: 'inbound', containerPort: PORT.inbound }, { name: 'admin', containerPort: PORT.admin }],
            volumeMounts: dirs.map((d, i) => ({ name: `mesh-${i}`, mountPath: d })),
          }],
          volumes: dirs.map((d, i) => ({ name: `mesh-${i}`, hostPath: { path: d, type: 'Directory' } })),
        }, `with the ${name} sidecar (${envoy})`, [name]);
      } catch (e) {
        await remove().catch(() => undefined);
        throw e;
      }
      const proc: SidecarProcess = {
        // Watched, not waited on: it rejects when the container is seen stopped, with its log's tail.
        failOnExit: () => new Promise<never>((_, reject) => {
          const look = async () => {
            if (stopped) return;
            const list = await pods().catch(() => []);
            const why = sidecarExit(list);
            if (!why) return void setTimeout(look, 1_000).unref();
            const pod = list.find((p) => !p.metadata?.deletionTimestamp)?.metadata?.name ?? '';
            lastLog = await cluster.core.readNamespacedPodLog({ name: pod, namespace, container: CONTAINER, tailLines: 20 }).catch(() => '');
            reject(new Error(`the ${name} sidecar stopped: ${why}`));
          };
          void look();
        }),
        logTail: () => lastLog,
        stop: remove,
      };
      return proc;
    },
  };
}
