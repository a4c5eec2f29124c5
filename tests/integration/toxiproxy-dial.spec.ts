import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { test, expect } from '@playwright/test';
import { tool } from '../../src/paths.ts';
import { ToxiproxyClient } from '../../src/toxiproxy.ts';
import { http, HttpFailure } from '../../src/util/http.ts';
import { pollUntil } from '../../src/util/poll.ts';
import { freePorts, LOOPBACK } from '../../src/util/ports.ts';

/**
 * Toxiproxy as the suite builds it (images/toxiproxy/concurrent-dial.patch): one client whose
 * upstream dial hangs must not hold up the proxy. Upstream v2.12.0 dials inside its accept loop,
 * so a SYN into a black hole (on kind: a pod address already gone) stopped the whole edge for the
 * kernel's SYN retries, about 127 s, and any API call that restarts the proxy waited as long.
 */
test.describe('Toxiproxy: a hung upstream dial holds up only its own client', () => {
  test('while one dial hangs, the proxy is re-pointed at once and serves the next client', async () => {
    const [apiPort, listenPort] = await freePorts(2);
    const cleanup: (() => void)[] = [];
    try {
      // The black hole: a listener with a one-connection accept queue that never accepts, so a
      // second connection's SYN is dropped and its connect hangs (all on 127.0.0.1).
      // It lives until its stdin closes: killed at the end, or gone with this runner if it dies.
      const hole = spawn('python3', ['-c', "import socket,sys\ns=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(0); print(s.getsockname()[1], flush=True); sys.stdin.read()"], { stdio: ['pipe', 'pipe', 'inherit'] });
      cleanup.push(() => hole.kill('SIGKILL'));
      const holePort = await new Promise<number>((resolve) => hole.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
      const good: Server = createServer((_, res) => res.end('ok'));
      await new Promise<void>((r) => good.listen(0, LOOPBACK, r));
      cleanup.push(() => good.close());
      const goodPort = (good.address() as { port: number }).port;

      const server: ChildProcess = spawn(tool('toxiproxy-server'), ['-host', LOOPBACK, '-port', String(apiPort)], { stdio: 'ignore' });
      cleanup.push(() => server.kill('SIGKILL'));
      const api = new ToxiproxyClient(`http://${LOOPBACK}:${apiPort}`);
      await pollUntil('Toxiproxy to answer', 10_000, async () => api.version().then((v) => ({ done: true as const, value: v }), (e: unknown) => {
        if (e instanceof HttpFailure) return { done: false as const };
        throw e;
      }));
      await api.createProxy('hole', `${LOOPBACK}:${listenPort}`, `${LOOPBACK}:${holePort}`);

      // The first client's dial fills the accept queue; the second's hangs. One after the other: a
      // second SYN that arrives while the first handshake is still under way is answered (the queue
      // is not full yet), and that dial then looks established instead of hanging.
      const clients: Socket[] = [];
      cleanup.push(() => clients.forEach((c) => c.destroy()));
      const dials = (state: string) => spawnSync('ss', ['-Htn', 'state', state, 'dst', `${LOOPBACK}:${holePort}`], { encoding: 'utf8' }).stdout.trim();
      clients.push(connect(listenPort!, LOOPBACK).on('error', () => undefined));
      await pollUntil("Toxiproxy's first dial to be established (the hole's accept queue full)", 10_000, async () =>
        dials('established') ? { done: true, value: undefined } : { done: false, note: 'not yet' },
      );
      clients.push(connect(listenPort!, LOOPBACK).on('error', () => undefined));
      await pollUntil("Toxiproxy's second dial to hang in SYN-SENT", 10_000, async () => {
        return dials('syn-sent') ? { done: true, value: undefined } : { done: false, note: 'no SYN-SENT yet' };
      });

      // Re-pointing restarts the proxy; with the dial in the accept loop this waited for it.
      const t0 = Date.now();
      await api.setUpstream('hole', `${LOOPBACK}:${goodPort}`);
      const res = await http(`http://${LOOPBACK}:${listenPort}/`, { timeoutMs: 5_000 });
      expect(res.body).toBe('ok');
      expect(Date.now() - t0, 're-pointed and served while the other dial still hangs').toBeLessThan(5_000);
    } finally {
      for (const c of cleanup.reverse()) c();
    }
  });
});
