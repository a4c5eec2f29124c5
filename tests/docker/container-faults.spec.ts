import { test, expect } from '../../fixtures/stack.ts';
import { FAULTS } from '../../src/faults/index.ts';
import { DEFAULT_LIMITS } from '../../src/targets/docker/service.ts';
import { predictKserveV1 } from '../../src/workloads/predict.ts';
import { pollUntil } from '../../src/util/poll.ts';

/**
 * Each container fault checked against the engine and the component itself: it acts while it holds
 * and is gone after its revert. The scenarios judge what users see; these prove the faults are real.
 */
test.describe('container faults act, and revert', () => {
  test.setTimeout(240_000);

  test('partition: the container leaves the stack network, calls to it fail, and it comes back', async ({ stack }) => {
    const c = stack.containers!;
    const before = await c.state('kserve');
    const injected = await FAULTS.partition.inject(stack, 'kserve', {}, { clients: new Map() });
    try {
      const during = await c.state('kserve');
      expect(before.networks.filter((n) => !during.networks.includes(n)).length).toBe(1);
      const r = await predictKserveV1(stack.endpoints.kserve, stack.reference.golden.inputs, 5_000).catch((err: Error) => err);
      expect(r instanceof Error || r.http.status !== 200, 'a prediction through the edge must fail while the model server is cut off').toBe(true);
    } finally {
      await injected.undo();
    }
    expect((await c.state('kserve')).networks.sort()).toEqual(before.networks.sort());
    await pollUntil('KServe to answer through its edge again', 30_000, async () => {
      const r = await predictKserveV1(stack.endpoints.kserve, stack.reference.golden.inputs, 5_000).catch(() => undefined);
      return r?.http.status === 200 ? { done: true, value: undefined } : { done: false };
    });
  });

  test('cpu-throttle: the cgroup quota is the fault’s while it holds and the start value after', async ({ stack }) => {
    const c = stack.containers!;
    // cgroup v1 (this machine) or v2: the kernel's own view of the quota, not the engine's record.
    const quota = async () => (await c.exec('mlflow', ['sh', '-c', 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d" " -f1 /sys/fs/cgroup/cpu.max'])).trim();
    const injected = await FAULTS['cpu-throttle'].inject(stack, 'mlflow', { cpus: 0.05 }, { clients: new Map() });
    try {
      expect((await c.state('mlflow')).cpus).toBeCloseTo(0.05);
      expect(Number(await quota())).toBe(5000); // 0.05 of the default 100 ms period
    } finally {
      await injected.undo();
    }
    expect((await c.state('mlflow')).cpus).toBe(DEFAULT_LIMITS.cpus);
    expect(Number(await quota())).toBe(DEFAULT_LIMITS.cpus * 100_000);
  });

  test('clock-skew: the clock inside is off by the offset while it holds, and true after', async ({ stack }) => {
    const c = stack.containers!;
    const offset = async () => Number((await c.exec('mlflow-serving', ['date', '+%s'])).trim()) - Math.round(Date.now() / 1000);
    const injected = await FAULTS['clock-skew'].inject(stack, 'mlflow-serving', { offsetS: 1200 }, { clients: new Map() });
    try {
      expect(Math.abs((await offset()) - 1200)).toBeLessThanOrEqual(5);
    } finally {
      await injected.undo();
    }
    expect(Math.abs(await offset())).toBeLessThanOrEqual(5);
  });

  test('disk-full: the data filesystem says it is full while it holds, and has its space back after', async ({ stack }) => {
    const c = stack.containers!;
    const fs = c.dataFs('seaweedfs');
    expect('path' in fs, `seaweedfs needs a sized filesystem here: ${JSON.stringify(fs)}`).toBe(true);
    if (!('path' in fs)) return;
    const free = async () => Number((await c.exec('seaweedfs', ['df', '--output=avail', '-B1', fs.path])).trim().split('\n').at(-1));
    const before = await free();
    const injected = await FAULTS['disk-full'].inject(stack, 'seaweedfs', {}, { clients: new Map() });
    try {
      expect(await free()).toBeLessThan(1024 * 1024);
      // The kernel refuses a write of one more MiB: the fill is real, not a number in a note.
      const write = await c.exec('seaweedfs', ['sh', '-c', `dd if=/dev/zero of=${fs.path}/.probe bs=1M count=1 2>&1; echo exit=$?`]);
      expect(write).toMatch(/No space left on device/);
    } finally {
      await injected.undo();
      await c.exec('seaweedfs', ['rm', '-f', `${fs.path}/.probe`]);
    }
    expect(Math.abs((await free()) - before)).toBeLessThan(16 * 1024 * 1024);
  });

  test('oom: a batch beyond the lowered limit gets the server OOM-killed, as the engine records it; revert brings it back', async ({ stack }) => {
    const c = stack.containers!;
    const injected = await FAULTS.oom.inject(stack, 'kserve', { headroomMB: 24, batchRows: 300_000 }, { clients: new Map() });
    let killed = false;
    try {
      killed = await pollUntil('the kernel to OOM-kill KServe', 60_000, async () => {
        const s = await c.state('kserve');
        return s.oomKilled ? { done: true, value: true } : { done: false, note: `running ${s.running}, limit ${s.memoryBytes}` };
      });
    } finally {
      await injected.undo();
    }
    expect(killed).toBe(true);
    expect(injected.note).toContain('State.OOMKilled');
    const after = await c.state('kserve');
    expect(after.running).toBe(true);
    expect(after.memoryBytes).toBe(DEFAULT_LIMITS.memoryBytes);
    const r = await predictKserveV1(stack.endpoints.kserve, stack.reference.golden.inputs, 10_000);
    expect(r.http.status).toBe(200);
  });
});
