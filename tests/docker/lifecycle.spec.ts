import { spawnSync } from 'node:child_process';
import { test, expect } from '@playwright/test';
import { runCli, startCli } from '../../fixtures/cli.ts';
import { timeouts } from '../../src/timeouts.ts';
import { pollUntil } from '../../src/util/poll.ts';
import { LABEL_STACK } from '../../src/targets/docker/engine.ts';

// The runner is a child process, as a user's terminal would be, so it can be SIGKILLed.

const runner = () => startCli(['stack', 'up', '--target', 'docker', '--foreground']);

/** Everything labelled with a stack id, by kind: what must be gone after a run. */
function labelled(stackId: string): { containers: string[]; networks: string[]; volumes: string[] } {
  const ids = (args: string[]) => spawnSync('docker', [...args, '--filter', `label=${LABEL_STACK}=${stackId}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  return { containers: ids(['ps', '-aq']), networks: ids(['network', 'ls', '-q']), volumes: ids(['volume', 'ls', '-q']) };
}


const stackIdIn = (out: string) => out.match(/network mlops-chaos-(\S+)/)?.[1];

test.describe('docker stack lifecycle', () => {
  test.setTimeout(timeouts.stackStart + 120_000);

  test('Ctrl-C tears the stack down: no labelled container, network or volume is left', async () => {
    const { child, output } = runner();
    await pollUntil('the docker stack to be ready', timeouts.stackStart, async () => (output().includes('running; Ctrl-C stops it') ? { done: true, value: undefined } : { done: false, note: output().split('\n').slice(-2).join(' | ') }));
    const id = stackIdIn(output())!;
    expect(labelled(id).containers.length, 'the stack runs as containers, or this test proves nothing').toBe(6);
    const exited = new Promise<number | null>((r) => child.once('close', r));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(labelled(id)).toEqual({ containers: [], networks: [], volumes: [] });
  });

  test('a runner killed with SIGKILL leaves containers that the next run reaps and reports', async () => {
    const { child, output } = runner();
    const id = await pollUntil('the runner to have started PostgreSQL and SeaweedFS', timeouts.stackStart, async () => {
      const sid = stackIdIn(output());
      return sid && labelled(sid).containers.length >= 3 ? { done: true, value: sid } : { done: false, note: output().split('\n').slice(-2).join(' | ') };
    });
    const exited = new Promise((r) => child.once('close', r));
    child.kill('SIGKILL');
    await exited;
    const left = labelled(id);
    expect(left.containers.length, 'the crash must leave containers, or this test proves nothing').toBeGreaterThanOrEqual(3);
    expect(left.networks.length).toBe(1);

    const reaped = await runCli(['reap']);
    expect(reaped.code, reaped.out).toBe(0);
    expect(reaped.out, 'the next run says what it reaped').toContain(`reaped leftovers of stack ${id}`);
    expect(reaped.out).toContain(`container mlops-chaos-${id}-postgres`);
    expect(labelled(id)).toEqual({ containers: [], networks: [], volumes: [] });
  });
});
