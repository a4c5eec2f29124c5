import { test, expect } from '@playwright/test';
import { networkPoliciesObjects, verdictsBetween } from '../../src/kind/network-policies.ts';
import { ScenarioError, validateScenario } from '../../src/scenario/load.ts';

const scenario = (fault: Record<string, unknown>) => ({
  name: 'np',
  description: 'a NetworkPolicy on a component',
  platforms: ['kubeflow'],
  workload: ['kserve.predict'],
  fault: { type: 'network-policy', duration: '20s', ...fault },
  expect: { 'kserve.v1': 'observable', 'kserve.v2': 'observable' },
  deadlines: { operation: '5s', recovery: '60s' },
});

function problems(raw: unknown): string[] {
  try {
    validateScenario('scenarios/x.yaml', raw);
    return [];
  } catch (err) {
    if (err instanceof ScenarioError) return err.problems;
    throw err;
  }
}

test.describe('network-policy', () => {
  test("the engine's install.yaml runs the image built here, never pulled; every other object as upstream wrote it", () => {
    const text = [
      'kind: ClusterRole\napiVersion: rbac.authorization.k8s.io/v1\nmetadata: {name: kube-network-policies}',
      'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: kube-network-policies, namespace: kube-system}',
      'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: kube-network-policies, namespace: kube-system}\nspec: {template: {spec: {hostNetwork: true, containers: [{name: kube-network-policies, image: "registry.k8s.io/networking/kube-network-policies:v0.7.0", args: [/bin/netpol, --nfqueue-id=98]}]}}}',
    ].join('\n---\n');
    const objs = networkPoliciesObjects(text, 'mlops-chaos/kube-network-policies:v0.8.0-x');
    expect(objs.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual(['ClusterRole/kube-network-policies', 'ServiceAccount/kube-network-policies', 'DaemonSet/kube-network-policies']);
    expect(objs[2]!.spec.template.spec.containers[0]).toEqual({ name: 'kube-network-policies', image: 'mlops-chaos/kube-network-policies:v0.8.0-x', imagePullPolicy: 'Never', args: ['/bin/netpol', '--nfqueue-id=98'] });
    expect(objs[2]!.spec.template.spec.hostNetwork).toBe(true);
  });

  test("the engine's verdicts while a policy stood: the counters' differences, accepted and dropped always named", () => {
    expect(verdictsBetween({ accept: 40 }, { accept: 52, drop: 7 })).toBe('12 accepted, 7 dropped');
    expect(verdictsBetween({}, {})).toBe('0 accepted, 0 dropped');
  });

  test('a scenario names a component with a client edge, and admitEdge is 0 or 1', () => {
    expect(problems(scenario({ process: 'kserve' }))).toEqual([]);
    expect(problems(scenario({ process: 'kserve', params: { admitEdge: 1 } }))).toEqual([]);
    expect(problems(scenario({ process: 'postgres' }))).toEqual([expect.stringContaining("fault.process: 'postgres' is not a process network-policy acts on; allowed: kserve, mlflow, mlflow-serving")]);
    expect(problems(scenario({ process: 'kserve', params: { admitEdge: 2 } })).join('\n')).toMatch(/fault\.params\.admitEdge: .*1/);
  });
});
