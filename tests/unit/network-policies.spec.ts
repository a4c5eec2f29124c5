import { test, expect } from '@playwright/test';
import { networkPoliciesObjects, verdictsBetween } from '../../src/kind/network-policies.ts';

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
});
