import { readFileSync } from 'node:fs';
import { tool } from '../../paths.ts';
import { timeouts } from '../../timeouts.ts';
import { ToxiproxyClient } from '../../toxiproxy.ts';
import { HttpFailure } from '../../util/http.ts';
import { pollUntil } from '../../util/poll.ts';
import { LOOPBACK } from '../../util/ports.ts';
import type { StackContext } from './context.ts';
import type { ManagedProcess } from './managed-process.ts';
import type { Watched } from '../../util/wait-http.ts';

export interface ToxiproxyServer {
  client: ToxiproxyClient;
  version: string;
  process: ManagedProcess;
}

export async function startToxiproxy(ctx: StackContext, port: number): Promise<ToxiproxyServer> {
  const proc = ctx.start({
    name: 'toxiproxy',
    command: tool('toxiproxy-server'),
    args: ['-host', LOOPBACK, '-port', String(port)],
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info' },
  });
  const client = new ToxiproxyClient(`http://${LOOPBACK}:${port}`);
  await waitToxiproxyApi(client, proc, 'Toxiproxy API');
  // A `go install` build reports "git" as its version: the pinned version is in setup's stamp.
  const version = readFileSync(`${tool('toxiproxy-server')}`.replace(/toxiproxy-server$/, '.toxiproxy-server.stamp'), 'utf8').trim();
  return { client, version, process: proc };
}

/** Polls the API until it answers /version (on every target); fails at once if what runs it exits. */
export async function waitToxiproxyApi(client: ToxiproxyClient, proc: Watched, what: string): Promise<void> {
  await pollUntil(`${what} to answer /version`, timeouts.toxiproxyReady, async () => {
    try {
      await client.version();
      return { done: true, value: undefined };
    } catch (err) {
      if (err instanceof HttpFailure) return { done: false, note: err.message };
      throw err;
    }
  }, { abort: proc.failOnExit() });
}
