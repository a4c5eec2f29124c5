import { test, expect } from '@playwright/test';
import { predictionsServed } from '../../src/kind/autoscaler.ts';
import { metricsServerObjects } from '../../src/kind/metrics-server.ts';
import { summarizeAutoscale } from '../../src/report/autoscale.ts';
import { parseAutoscale } from '../../src/scenario/autoscale-block.ts';
import type { AutoscaleSample } from '../../src/targets/stack.ts';

const SPEC = { component: 'kserve' as const, maxReplicas: 2, cpuRequestMilli: 500, cpuTargetPercent: 50 };
const W = { injectedAt: 10_000, revertedAt: 100_000 };
const sample = (at: number, desired: number, served: Record<string, number>, cpuPercent = 180): AutoscaleSample => ({ at, desired, current: Object.keys(served).length, cpuPercent, ready: Object.keys(served), served });

test.describe('autoscaler report', () => {
  test('when it asked, when the added pod was ready, and its share of the predictions from then on', () => {
    const r = summarizeAutoscale(SPEC, [
      sample(5_000, 1, { a: 100 }, 5), // before the window: not counted
      sample(20_000, 1, { a: 900 }),
      sample(41_000, 2, { a: 2_000 }),
      sample(60_000, 2, { a: 3_000, b: 0 }),
      sample(99_000, 2, { a: 5_400, b: 900 }),
      sample(101_000, 2, { a: 5_500, b: 700 }), // after the window: not counted
    ], ['a'], W);
    expect(r.scaleUpAfterMs).toBe(31_000);
    expect(r.newReplicaReadyAfterMs).toBe(50_000);
    expect(r.servedAfterReady).toEqual({ byNew: 900, total: 3_300 });
    expect(r.maxDesired).toBe(2);
    expect(r.maxCpuPercent).toBe(180);
    expect(r.samples).toBe(4);
    expect(r.servingAfterMs).toBe(89_000);
    expect(r.outcome).toBe('serving');
    expect(r.expected).toBeUndefined();
    expect(r.summary).toBe("the autoscaler asked for 2 replicas 31.0 s after the load began (CPU 180% of the request, target 50%); the added replica was ready 50.0 s after the load began and served 900 of the 3300 predictions (27.3%) from then to the window's end; it took its share 89.0 s after the load began");
  });

  test('a replica that is ready but gets almost nothing (clients keep their connections to the first) is not serving', () => {
    const r = summarizeAutoscale(SPEC, [
      sample(20_000, 2, { a: 900 }),
      sample(40_000, 2, { a: 3_000, b: 0 }),
      sample(60_000, 2, { a: 6_000, b: 20 }),
      sample(90_000, 2, { a: 9_000, b: 34 }),
    ], ['a'], W);
    expect(r.servingAfterMs).toBeNull();
    expect(r.outcome).toBe('starved');
    expect(r.summary).toMatch(/served 34 of the 6034 predictions \(0\.6%\) from then to the window's end; it never took half its even share between two looks$/);
  });

  test("a scenario's expectation of the added replica is met or not, and the summary says which", () => {
    const starved = [sample(20_000, 2, { a: 900 }), sample(40_000, 2, { a: 3_000, b: 0 }), sample(90_000, 2, { a: 9_000, b: 34 })];
    const met = summarizeAutoscale({ ...SPEC, expect: 'starved' }, starved, ['a'], W);
    expect([met.outcome, met.expected, met.asExpected]).toEqual(['starved', 'starved', true]);
    expect(met.summary).toMatch(/ \(starved, as expected\)$/);
    const missed = summarizeAutoscale({ ...SPEC, expect: 'serving' }, starved, ['a'], W);
    expect([missed.outcome, missed.asExpected]).toEqual(['starved', false]);
    expect(missed.summary).toMatch(/ \(starved; expected serving\)$/);
    // No replica at all is neither outcome a scenario may expect.
    expect(summarizeAutoscale({ ...SPEC, expect: 'serving' }, [sample(20_000, 1, { a: 10 })], ['a'], W)).toMatchObject({ outcome: 'kept', asExpected: false });
  });

  test('an autoscaler that never asks says so, with the most CPU it read', () => {
    const r = summarizeAutoscale(SPEC, [sample(20_000, 1, { a: 10 }, 12), sample(50_000, 1, { a: 20 }, 30)], ['a'], W);
    expect([r.scaleUpAfterMs, r.newReplicaReadyAfterMs, r.servedAfterReady, r.servingAfterMs]).toEqual([null, null, null, null]);
    expect(r.outcome).toBe('kept');
    expect(r.summary).toBe('the autoscaler kept 1 replica through the 90.0 s window (CPU at most 30% of the request, target 50%)');
  });

  test('asked, but no replica ready by the window\'s end', () => {
    const r = summarizeAutoscale(SPEC, [sample(20_000, 2, { a: 10 })], ['a'], W);
    expect(r.outcome).toBe('not-ready');
    expect(r.summary).toMatch(/; no added replica was ready by the window's end \(90\.0 s\)$/);
  });

  test("predictionsServed: KServe's histogram count, summed over its models", () => {
    const text = '# HELP request_predict_seconds predict request latency\n# TYPE request_predict_seconds histogram\nrequest_predict_seconds_bucket{le="0.005",model_name="m"} 3.0\nrequest_predict_seconds_count{model_name="m"} 42.0\nrequest_predict_seconds_sum{model_name="m"} 0.1\nrequest_predict_seconds_count{model_name="n"} 8.0\n';
    expect(predictionsServed(text)).toBe(50);
    expect(predictionsServed('')).toBe(0);
  });
});

test.describe('autoscale section of a scenario', () => {
  const parse = (raw: unknown) => {
    const problems: string[] = [];
    const spec = parseAutoscale(raw, (field, why) => problems.push(`${field}: ${why}`));
    return { spec, problems };
  };

  test('a valid section', () => {
    expect(parse({ component: 'kserve', maxReplicas: 2, cpuRequest: '500m', cpuTarget: 50 })).toEqual({ spec: SPEC, problems: [] });
    expect(parse({ component: 'kserve', maxReplicas: 2, cpuRequest: '500m', cpuTarget: 50, expect: 'starved' })).toEqual({ spec: { ...SPEC, expect: 'starved' }, problems: [] });
  });

  test('each bad field is named with what is allowed', () => {
    const { spec, problems } = parse({ component: 'mlflow', maxReplicas: 40, cpuRequest: '2', cpuTarget: 500, scaleDown: true, expect: 'fast' });
    expect(spec).toBeUndefined();
    expect(problems).toEqual([
      'autoscale.scaleDown: unknown field; allowed: component, maxReplicas, cpuRequest, cpuTarget, expect',
      "autoscale.component: 'mlflow' has no autoscaler the suite can turn on; allowed: kserve",
      'autoscale.maxReplicas: a whole number from 2 to 4',
      'autoscale.cpuRequest: millicores from 50m to 2000m, like 500m (what the target utilization is a share of)',
      'autoscale.cpuTarget: a whole percentage of the request from 10 to 100, like 50',
      'autoscale.expect: allowed: serving (the added replica takes at least half its even share of the predictions in the window), starved (it is ready but never does)',
    ]);
  });
});

test('metrics-server manifests: our image on the one node that has it, kubelet TLS as on kind, the kustomize labels everywhere', () => {
  const deployment = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: metrics-server, namespace: kube-system}\nspec: {template: {spec: {containers: [{name: metrics-server, image: gcr.io/k8s-staging-metrics-server/metrics-server:master, imagePullPolicy: IfNotPresent, args: [--cert-dir=/tmp, --secure-port=10250]}]}}}';
  const service = 'apiVersion: v1\nkind: Service\nmetadata: {name: metrics-server, namespace: kube-system}\nspec: {ports: [{name: https, port: 443}]}';
  const rbac = 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: metrics-server, namespace: kube-system}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: system:metrics-server}';
  const objs = metricsServerObjects([rbac, service, deployment], 'mlops-chaos/metrics-server:v0.8.0-x', 'c-worker');
  expect(objs.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual(['ServiceAccount/metrics-server', 'ClusterRole/system:metrics-server', 'Service/metrics-server', 'Deployment/metrics-server']);
  for (const o of objs) expect(o.metadata?.labels).toEqual({ 'k8s-app': 'metrics-server' });
  expect(objs[2]!.spec.selector).toEqual({ 'k8s-app': 'metrics-server' });
  const d = objs[3]!.spec;
  expect(d.selector).toEqual({ matchLabels: { 'k8s-app': 'metrics-server' } });
  expect(d.template.metadata.labels).toEqual({ 'k8s-app': 'metrics-server' });
  expect(d.template.spec.nodeSelector).toEqual({ 'kubernetes.io/hostname': 'c-worker' });
  expect(d.template.spec.containers[0]).toEqual({ name: 'metrics-server', image: 'mlops-chaos/metrics-server:v0.8.0-x', imagePullPolicy: 'Never', args: ['--cert-dir=/tmp', '--secure-port=10250', '--kubelet-insecure-tls'] });
});
