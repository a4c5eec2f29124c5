import { test, expect } from '@playwright/test';
import { KubeConfig } from '@kubernetes/client-node';
import { assertOwnCluster, checkClusterName } from '../../src/kind/guard.ts';
import { cniConfig, routesFor, type PodNetworkNode } from '../../src/kind/pod-network.ts';

const kc = (context: string, server: string): KubeConfig => {
  const k = new KubeConfig();
  k.loadFromOptions({ clusters: [{ name: 'c', server }], users: [{ name: 'u' }], contexts: [{ name: context, cluster: 'c', user: 'u' }], currentContext: context });
  return k;
};

test('cluster names: only our prefix, DNS-label characters, bounded length', () => {
  expect(checkClusterName('mlops-chaos-abc123')).toBeNull();
  expect(checkClusterName('kind')).toMatch(/not one this suite creates/);
  expect(checkClusterName('mlops-chaos-UPPER')).toMatch(/lowercase/);
  expect(checkClusterName(`mlops-chaos-${'a'.repeat(40)}`)).toMatch(/at most 44/);
  expect(checkClusterName('mlops-chaos-')).not.toBeNull();
});

test('the guard accepts only kind-NAME on 127.0.0.1', () => {
  expect(() => assertOwnCluster(kc('kind-mlops-chaos-x', 'https://127.0.0.1:40000'), 'mlops-chaos-x')).not.toThrow();
  expect(() => assertOwnCluster(kc('prod', 'https://127.0.0.1:40000'), 'mlops-chaos-x')).toThrow(/kube context 'prod'/);
  expect(() => assertOwnCluster(kc('kind-mlops-chaos-x', 'https://192.168.1.5:6443'), 'mlops-chaos-x')).toThrow(/127\.0\.0\.1 only/);
  expect(() => assertOwnCluster(kc('kind-mlops-chaos-x', 'https://localhost.example:6443'), 'mlops-chaos-x')).toThrow(/127\.0\.0\.1 only/);
  expect(() => assertOwnCluster(kc('kind-other', 'https://127.0.0.1:1'), 'other')).toThrow(/not one this suite creates/);
});

test('pod network: a ptp config over the node\'s own range, and a route to every other node\'s range', () => {
  const nodes: PodNetworkNode[] = [
    { name: 'a', podCIDR: '10.244.0.0/24', internalIP: '172.18.0.2' },
    { name: 'b', podCIDR: '10.244.1.0/24', internalIP: '172.18.0.3' },
    { name: 'c', podCIDR: '10.244.2.0/24', internalIP: '172.18.0.4' },
  ];
  const cfg = JSON.parse(cniConfig('10.244.1.0/24')) as { plugins: { type: string; ipMasq?: boolean; ipam?: { ranges: { subnet: string }[][] } }[] };
  expect(cfg.plugins.map((p) => p.type)).toEqual(['ptp', 'portmap']);
  expect(cfg.plugins[0]!.ipam!.ranges).toEqual([[{ subnet: '10.244.1.0/24' }]]);
  expect(cfg.plugins[0]!.ipMasq).toBe(false);
  expect(routesFor(nodes[1]!, nodes)).toEqual([
    ['ip', 'route', 'replace', '10.244.0.0/24', 'via', '172.18.0.2'],
    ['ip', 'route', 'replace', '10.244.2.0/24', 'via', '172.18.0.4'],
  ]);
});
