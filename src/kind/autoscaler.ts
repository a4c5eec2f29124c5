import { setTimeout as delay } from 'node:timers/promises';
import { AutoscalingV2Api, KubernetesObjectApi, type V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { ActiveAutoscaler, AutoscaleSample, AutoscaleSpec } from '../targets/stack.ts';
import { timeouts } from '../timeouts.ts';
import { pollUntil } from '../util/poll.ts';
import type { KindCluster } from './cluster.ts';
import { PREDICTOR_PORT, isvcRef, predictorSelector, rollPredictor } from './inference-service.ts';
import { isPodReady } from './objects.ts';

/** How often the autoscaler and its pods are looked at while it runs. */
const SAMPLE_EVERY_MS = 1_000;
/** kube-controller-manager's --horizontal-pod-autoscaler-downscale-stabilization default (1.34). */
const DOWNSCALE_STABILIZATION_S = 300;

/** KServe's ModelServer counts its predictions per model (kserve/metrics.py, a Prometheus histogram). */
export function predictionsServed(metricsText: string): number {
  let n = 0;
  for (const line of metricsText.split('\n')) {
    const m = /^request_predict_seconds_count(?:\{[^}]*\})?\s+([0-9.eE+]+)/.exec(line);
    if (m) n += Number(m[1]);
  }
  return n;
}

/**
 * The InferenceService's predictor under the HorizontalPodAutoscaler KServe makes for it in
 * Standard mode (its default autoscaler class, `hpa`): minReplicas 1, maxReplicas, scaleMetric cpu
 * and scaleTarget on the predictor, and a CPU request on the model container, since utilization is
 * a share of it. Setting them rolls out a new predictor pod, as any change of the pod template does.
 */
export async function autoscaleInferenceService(cluster: KindCluster, name: string, namespace: string, spec: AutoscaleSpec): Promise<ActiveAutoscaler> {
  const hpaName = `${name}-predictor`;
  const autoscaling = cluster.kc.makeApiClient(AutoscalingV2Api);
  const turnOff = () =>
    rollPredictor(cluster, name, namespace, { minReplicas: null, maxReplicas: null, scaleMetric: null, scaleTarget: null, model: { resources: null } }, 'without its autoscaler');
  await rollPredictor(cluster, name, namespace, {
    minReplicas: 1, maxReplicas: spec.maxReplicas, scaleMetric: 'cpu', scaleTarget: spec.cpuTargetPercent,
    model: { resources: { requests: { cpu: `${spec.cpuRequestMilli}m` } } },
  }, `under a HorizontalPodAutoscaler (1 to ${spec.maxReplicas} replicas, CPU at ${spec.cpuTargetPercent}% of ${spec.cpuRequestMilli}m)`);
  const pods = async () => (await cluster.core.listNamespacedPod({ namespace, labelSelector: predictorSelector(name) })).items.filter(isPodReady).map((p) => p.metadata!.name!);
  let hpa: V2HorizontalPodAutoscaler;
  let initialPods: string[];
  let settling = 0;
  // Either wait failing takes the autoscaler away again before the error goes on.
  try {
    hpa = await pollUntil(`HorizontalPodAutoscaler ${namespace}/${hpaName} to read the predictor's CPU`, timeouts.metricsReady, async () => {
      const h = await autoscaling.readNamespacedHorizontalPodAutoscaler({ name: hpaName, namespace }).catch(() => undefined);
      if (!h) return { done: false, note: 'not made yet' };
      if (h.spec?.maxReplicas !== spec.maxReplicas) return { done: false, note: `maxReplicas ${h.spec?.maxReplicas}` };
      const active = h.status?.conditions?.find((c) => c.type === 'ScalingActive');
      return active?.status === 'True' && cpuOf(h) !== undefined ? { done: true, value: h } : { done: false, note: active ? `ScalingActive ${active.status}: ${active.message ?? active.reason}` : 'no conditions yet' };
    });
    // The window must open at one replica, or there is no replica for the autoscaler to add. A new
    // HPA of the same name can start at the last one's replicas: the controller drops its memory of
    // an HPA's recommendations only when a resync finds it gone (pkg/controller/podautoscaler,
    // reconcileKey), and keeps a scale-down recommendation for its 5 min stabilization window.
    settling = Date.now();
    initialPods = await pollUntil(`HorizontalPodAutoscaler ${namespace}/${hpaName} to stand at 1 replica (a scale-down waits out the controller's ${DOWNSCALE_STABILIZATION_S} s stabilization)`, timeouts.autoscalerAtOne, async () => {
      const h = await autoscaling.readNamespacedHorizontalPodAutoscaler({ name: hpaName, namespace });
      const ready = await pods();
      const desired = h.status?.desiredReplicas;
      const current = h.status?.currentReplicas;
      return desired === 1 && current === 1 && ready.length === 1 ? { done: true, value: ready } : { done: false, note: `desired ${desired}, current ${current}, ${ready.length} pod(s) ready` };
    });
  } catch (err) {
    await turnOff().catch(() => undefined);
    throw err;
  }
  const settledS = ((Date.now() - settling) / 1000).toFixed(1);

  const samples: AutoscaleSample[] = [];
  let stopped = false;
  const look = async (): Promise<void> => {
    const at = Date.now();
    const h = await autoscaling.readNamespacedHorizontalPodAutoscaler({ name: hpaName, namespace });
    const ready = await pods();
    const served: Record<string, number> = {};
    // Each pod's own counter, through the API server's pod proxy: the Service would pick one pod per connection.
    await Promise.all(ready.map(async (pod) => {
      const text = await cluster.core.connectGetNamespacedPodProxyWithPath({ name: `${pod}:${PREDICTOR_PORT}`, namespace, path: 'metrics' }).catch(() => undefined);
      if (typeof text === 'string') served[pod] = predictionsServed(text);
    }));
    const cpu = cpuOf(h);
    samples.push({ at, desired: h.status?.desiredReplicas ?? 0, current: h.status?.currentReplicas ?? 0, ...(cpu !== undefined ? { cpuPercent: cpu } : {}), ready, served });
  };
  // A sampling loop, not a wait: it looks once a second until stopped, and a failed look is skipped.
  const loop = (async () => {
    while (!stopped) {
      await look().catch(() => undefined);
      if (!stopped) await delay(SAMPLE_EVERY_MS);
    }
  })();
  const api = KubernetesObjectApi.makeApiClient(cluster.kc);
  const isvc = (await api.read(isvcRef(name, namespace))) as { spec?: { predictor?: Record<string, unknown> } };
  let done: Promise<AutoscaleSample[]> | undefined;
  return {
    initialPods,
    note: `HorizontalPodAutoscaler ${hpaName} (KServe's, from the InferenceService's minReplicas ${String(isvc.spec?.predictor?.minReplicas)}, maxReplicas ${String(isvc.spec?.predictor?.maxReplicas)}, scaleMetric cpu, scaleTarget ${spec.cpuTargetPercent}) reads CPU at ${cpuOf(hpa)}% of ${spec.cpuRequestMilli}m on ${initialPods.join(', ')}, at 1 replica ${settledS} s after it read CPU`,
    stop: () =>
      (done ??= (async () => {
        stopped = true;
        await loop;
        await turnOff();
        return samples;
      })()),
  };
}

function cpuOf(h: V2HorizontalPodAutoscaler): number | undefined {
  return h.status?.currentMetrics?.find((m) => m.resource?.name === 'cpu')?.resource?.current?.averageUtilization;
}
