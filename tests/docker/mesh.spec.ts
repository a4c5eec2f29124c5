import { spawnSync } from 'node:child_process';
import { test, expect } from '../../fixtures/stack.ts';
import { LABEL_STACK } from '../../src/targets/docker/engine.ts';
import { checkServerSidecar } from '../server-sidecar-checks.ts';

/** The stack's running containers whose name says they are a mesh's sidecar. */
const sidecarContainers = (stackId: string) =>
  spawnSync('docker', ['ps', '--filter', `label=${LABEL_STACK}=${stackId}`, '--format', '{{.Names}}'], { encoding: 'utf8' }).stdout.split('\n').filter((n) => n.includes('-mesh-'));

/**
 * On docker the server's sidecar is an Envoy container on the stack's network: the edge really
 * ends at it (it logs the request, mutual TLS and all), the PeerAuthentication push really reaches
 * it through the mounted LDS file, and removing the mesh removes the container and puts the edge back.
 */
test.describe('mesh sidecars on the docker stack', () => {
  test.setTimeout(180_000);

  test('the server sidecar is a container: mTLS through it, a STRICT push refuses plaintext, removal leaves nothing', async ({ stack }) => {
    await checkServerSidecar(stack, {
      sidecarUpstream: /^mesh-server-[0-9a-f]+:15006$/,
      placed: async () => expect(sidecarContainers(stack.id), 'one sidecar container beside the server').toHaveLength(1),
      removed: async () => expect(sidecarContainers(stack.id)).toEqual([]),
    });
  });
});
