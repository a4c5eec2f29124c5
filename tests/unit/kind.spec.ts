import { readFileSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import { parse } from 'yaml';
import { KubeConfig } from '@kubernetes/client-node';
import { CLUSTER_CONFIG, clusterConfig, clusterRanges, portCollision } from '../../src/kind/cluster.ts';
import { assertOwnCluster, checkClusterName } from '../../src/kind/guard.ts';
import { kserveObjects } from '../../src/kind/kserve-install.ts';
import { cniConfig, rangeGuards, routesFor, type PodNetworkNode } from '../../src/kind/pod-network.ts';
import { podFailure } from '../../src/kind/objects.ts';
import type { V1Pod } from '@kubernetes/client-node';

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

test("the cluster's ranges stay on this machine: un-DNATed Service traffic refused, the pod range a blackhole behind the nodes' routes", () => {
  const ranges = clusterRanges(readFileSync(CLUSTER_CONFIG, 'utf8'));
  expect(ranges).toEqual({ podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' });
  expect(clusterRanges('kind: Cluster\n')).toEqual(ranges);
  const guards = rangeGuards(ranges).map((c) => c.join(' '));
  expect(guards).toEqual([
    'iptables -I OUTPUT 1 -d 10.96.0.0/16 -m conntrack ! --ctstate DNAT -p tcp -j REJECT --reject-with tcp-reset',
    'iptables -I OUTPUT 2 -d 10.96.0.0/16 -m conntrack ! --ctstate DNAT -j REJECT',
    'iptables -I FORWARD 1 -d 10.96.0.0/16 -m conntrack ! --ctstate DNAT -p tcp -j REJECT --reject-with tcp-reset',
    'iptables -I FORWARD 2 -d 10.96.0.0/16 -m conntrack ! --ctstate DNAT -j REJECT',
    'ip route replace blackhole 10.244.0.0/16',
  ]);
});

test('cluster config: published NodePorts go on the control plane, on 127.0.0.1 only', () => {
  const yamlText = readFileSync(CLUSTER_CONFIG, 'utf8');
  const doc = parse(clusterConfig(yamlText, new Map([[30500, 41234]]))) as { networking: { apiServerAddress: string; disableDefaultCNI: boolean }; nodes: { role: string; extraPortMappings?: unknown[] }[] };
  expect(doc.networking).toMatchObject({ apiServerAddress: '127.0.0.1', disableDefaultCNI: true });
  expect(doc.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker']);
  expect(doc.nodes[0]!.extraPortMappings).toEqual([{ containerPort: 30500, hostPort: 41234, listenAddress: '127.0.0.1', protocol: 'TCP' }]);
  expect(doc.nodes[1]!.extraPortMappings).toBeUndefined();
  expect((parse(clusterConfig(yamlText, new Map())) as typeof doc).nodes[0]!.extraPortMappings).toBeUndefined();
});

test('cluster config: mounts go on every node at the same path; a relative one is refused by name', () => {
  const yamlText = readFileSync(CLUSTER_CONFIG, 'utf8');
  const doc = parse(clusterConfig(yamlText, new Map(), ['/tmp/stack-x/sidecars'])) as { nodes: { extraMounts?: unknown[] }[] };
  for (const n of doc.nodes) expect(n.extraMounts).toEqual([{ hostPath: '/tmp/stack-x/sidecars', containerPath: '/tmp/stack-x/sidecars' }]);
  expect((parse(clusterConfig(yamlText, new Map())) as typeof doc).nodes.every((n) => n.extraMounts === undefined)).toBe(true);
  expect(() => clusterConfig(yamlText, new Map(), ['sidecars'])).toThrow(/mounts: sidecars must be absolute/);
});

test('KServe manifest: our images, a CA in every webhook, Standard mode, no ingress, nothing needing cert-manager or an unavailable image', () => {
  const manifest = [
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: kserve-controller-manager, namespace: kserve}\nspec: {template: {spec: {containers: [{name: manager, image: kserve/kserve-controller:v0.20.0, imagePullPolicy: Always}, {name: kube-rbac-proxy, image: quay.io/brancz/kube-rbac-proxy:v0.18.0}]}}}',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: inferenceservice-config, namespace: kserve}\ndata: {deploy: \'{"defaultDeploymentMode": "Serverless"}\', ingress: \'{"ingressClassName": "istio", "disableIngressCreation": false}\', storageInitializer: \'{"image": "kserve/storage-initializer:v0.20.0", "memoryLimit": "1Gi"}\'}',
    'apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: {name: inferenceservice.serving.kserve.io, annotations: {cert-manager.io/inject-ca-from: kserve/serving-cert}, creationTimestamp: null}\nwebhooks: [{name: a, clientConfig: {service: {name: kserve-webhook-server-service}}}, {name: b, clientConfig: {service: {name: kserve-webhook-server-service}}}]',
    'apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: serving-cert}',
    'apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata: {name: selfsigned-issuer}',
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: llmisvc-controller-manager}',
    'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: kserve-localmodelnode-agent}',
    'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: llminferenceservices.serving.kserve.io}',
    'apiVersion: serving.kserve.io/v1alpha1\nkind: ClusterStorageContainer\nmetadata: {name: default}\nspec: {container: {image: kserve/storage-initializer:v0.20.0}}',
  ].join('\n---\n');
  const objs = kserveObjects(manifest, { controller: 'mlops-chaos/kserve-controller:x', storageInitializer: 'mlops-chaos/kserve-storage-initializer:y' }, 'Q0E=');
  expect(objs.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
    'Deployment/kserve-controller-manager', 'ConfigMap/inferenceservice-config', 'MutatingWebhookConfiguration/inferenceservice.serving.kserve.io',
    'CustomResourceDefinition/llminferenceservices.serving.kserve.io', 'ClusterStorageContainer/default',
  ]);
  const [deploy, config, webhook, , storage] = objs;
  expect(deploy!.spec.template.spec.containers).toEqual([{ name: 'manager', image: 'mlops-chaos/kserve-controller:x', imagePullPolicy: 'IfNotPresent' }]);
  expect(JSON.parse(config!.data!.deploy!)).toEqual({ defaultDeploymentMode: 'Standard' });
  expect(JSON.parse(config!.data!.ingress!)).toEqual({ ingressClassName: 'istio', disableIngressCreation: true });
  expect(JSON.parse(config!.data!.storageInitializer!)).toEqual({ image: 'mlops-chaos/kserve-storage-initializer:y', memoryLimit: '1Gi' });
  expect(webhook!.webhooks!.map((w) => w.clientConfig.caBundle)).toEqual(['Q0E=', 'Q0E=']);
  expect(webhook!.metadata?.annotations).toEqual({});
  expect(storage!.spec.container.image).toBe('mlops-chaos/kserve-storage-initializer:y');
});

test('podFailure: a secret cache not synced yet is waited out; a missing key and a crash loop are failures', () => {
  const pod = (reason: string, message: string): V1Pod => ({ metadata: { name: 'p' }, status: { containerStatuses: [{ name: 'c', image: 'i', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message } } }] } });
  expect(podFailure(pod('CreateContainerConfigError', 'failed to sync secret cache: timed out waiting for the condition'))).toBeUndefined();
  expect(podFailure(pod('CreateContainerConfigError', 'couldn\'t find key password in Secret mlops-chaos/pg'))).toContain("CreateContainerConfigError (couldn't find key password");
  expect(podFailure(pod('CrashLoopBackOff', 'back-off 10s restarting failed container'))).toContain('p/c: CrashLoopBackOff');
  expect(podFailure(pod('ContainerCreating', ''))).toBeUndefined();
});

test.describe('kind create cluster: a host port taken before Docker binds it', () => {
  test('only that refusal is tried again; any other failure is not', () => {
    // The failure CI met (2026-12-01), as kind reports it.
    const seen = 'kind create cluster --name mlops-chaos-4bc8e5 … failed: docker: Error response from daemon: driver failed programming external connectivity on endpoint mlops-chaos-4bc8e5-control-plane (07c18e36): Bind for 127.0.0.1:41061 failed: port is already allocated';
    expect(portCollision(seen)).toBe('Bind for 127.0.0.1:41061 failed: port is already allocated');
    expect(portCollision('kind create cluster failed: ERROR: failed to create cluster: node(s) already exist for a cluster with the name "x"')).toBeUndefined();
    expect(portCollision('kind create cluster failed (no answer within 300000 ms): ')).toBeUndefined();
  });
});
