import { existsSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import { runCli, startCli } from '../../fixtures/cli.ts';
import { timeouts } from '../../src/timeouts.ts';
import { pollUntil } from '../../src/util/poll.ts';
import { groupMembers } from '../../src/targets/local/proc.ts';
import { listRecords, type StackRecord } from '../../src/targets/local/registry.ts';

// These tests run their own stacks in a child runner, the way a user's terminal would.

const runner = () => startCli(['stack', 'up', '--foreground']);

function recordOf(pid: number): StackRecord | undefined {
  return listRecords().find((r) => r.owner.pid === pid);
}

const anyAlive = (rec: StackRecord) => rec.processes.filter((p) => groupMembers(p.pid, p.startTime).length > 0).map((p) => p.name);


test.describe('stack lifecycle', () => {
  test.setTimeout(timeouts.stackStart + 60_000);

  test('a runner killed with SIGKILL mid-start leaves processes that the next run reaps and reports', async () => {
    const { child, output } = runner();
    const pid = child.pid!;
    const rec = await pollUntil('the runner to have started postgres, seaweedfs and the MLflow server', timeouts.stackStart, async () => {
      const r = recordOf(pid);
      return r && r.processes.length >= 4 ? { done: true, value: r } : { done: false, note: output().split('\n').slice(-2).join(' | ') };
    });
    const exited = new Promise((r) => child.once('close', r));
    child.kill('SIGKILL');
    await exited;

    const left = recordOf(pid)!;
    expect(anyAlive(left), 'the crash must leave live processes, or this test proves nothing').toEqual(expect.arrayContaining(['toxiproxy', 'postgres', 'seaweedfs']));
    expect(existsSync(rec.workDir), 'work dir left behind').toBe(true);

    const reaped = await runCli(['reap']);
    expect(reaped.code, reaped.out).toBe(0);
    expect(reaped.out, 'the next run says what it reaped').toContain(`reaped leftovers of stack ${rec.id}`);
    for (const p of left.processes) expect(reaped.out, `reap report names ${p.name}`).toContain(`${p.name} (pid ${p.pid})`);
    expect(anyAlive(left), 'processes alive after reaping').toEqual([]);
    expect(existsSync(rec.workDir), 'work dir after reaping').toBe(false);
    expect((left.files ?? []).filter(existsSync), "SeaweedFS's sockets in /tmp after reaping").toEqual([]);
    expect(recordOf(pid), 'stack record after reaping').toBeUndefined();
  });

  test('after a normal run (Ctrl-C) no process, temp dir or record of the stack remains', async () => {
    const { child, output } = runner();
    const pid = child.pid!;
    await pollUntil('the runner to print that the stack is ready', timeouts.stackStart, async () =>
      output().includes('Ctrl-C stops it') ? { done: true, value: undefined } : { done: false, note: output().split('\n').slice(-2).join(' | ') },
    );
    const rec = recordOf(pid)!;
    expect(rec.processes.map((p) => p.name).sort()).toEqual(['kserve', 'mlflow', 'mlflow-serving', 'postgres', 'seaweedfs', 'toxiproxy']);
    // SeaweedFS makes its gRPC sockets at paths of its own in /tmp, outside the work dir.
    const sockets = rec.files ?? [];
    expect(sockets.filter(existsSync).length, `SeaweedFS's sockets while it runs (recorded: ${sockets.join(', ')})`).toBeGreaterThan(0);
    const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited, `runner exit code; output:\n${output().slice(-1500)}`).toBe(0);
    expect(anyAlive(rec), 'stack processes alive after a normal run').toEqual([]);
    expect(existsSync(rec.workDir), 'work dir after a normal run').toBe(false);
    expect(sockets.filter(existsSync), "SeaweedFS's sockets in /tmp after a normal run").toEqual([]);
    expect(recordOf(pid), 'stack record after a normal run').toBeUndefined();
  });
});
