import { test, expect } from '@playwright/test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { procInfo } from '../../src/targets/local/proc.ts';
import { runToCompletion } from '../../src/util/run-to-completion.ts';

test.describe('runToCompletion', () => {
  test('an aborted run rejects with the reason, and its whole process group is gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-chaos-rtc-'));
    try {
      const pidFile = join(dir, 'child');
      const stop = new AbortController();
      // A shell that starts a child that never ends by itself: it must die with the group, not outlive the shell.
      const run = runToCompletion('sh', ['-c', `tail -f /dev/null & echo $! > ${pidFile}; wait`], { env: process.env, deadlineMs: 20_000, what: 'a waiting group', signal: stop.signal });
      const childPid = () => { try { return Number(readFileSync(pidFile, 'utf8')); } catch { return 0; } };
      await expect.poll(childPid, { timeout: 5_000 }).toBeGreaterThan(0);
      expect(procInfo(childPid())).toBeDefined();
      stop.abort(new Error('the experiment ended'));
      await expect(run).rejects.toThrow('the experiment ended');
      await expect.poll(() => { const i = procInfo(childPid()); return i === undefined || i.state === 'Z'; }, { timeout: 5_000 }).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a signal aborted before the start runs nothing', async () => {
    const stop = new AbortController();
    stop.abort(new Error('already over'));
    await expect(runToCompletion('sh', ['-c', 'exit 0'], { env: process.env, deadlineMs: 1_000, what: 'nothing', signal: stop.signal })).rejects.toThrow('already over');
  });
});
