import { test, expect } from '@playwright/test';
import { CNI_NOT_LOADED, CniWatch } from '../../src/kind/pod-network.ts';

const stuck = (name: string) => ({ name, message: `False KubeletNotReady: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: ${CNI_NOT_LOADED}` });

test.describe('CniWatch: a containerd that never loaded the CNI config', () => {
  test('a node stuck on it is due once, after the wait, and never again', () => {
    const w = new CniWatch(30_000);
    expect(w.due([stuck('worker')], 0)).toEqual([]);
    expect(w.due([stuck('worker')], 29_999)).toEqual([]);
    expect(w.due([stuck('worker')], 30_000)).toEqual(['worker']);
    expect(w.due([stuck('worker')], 90_000)).toEqual([]);
  });

  test('another reason to be not Ready starts nothing, and resets the wait', () => {
    const w = new CniWatch(30_000);
    expect(w.due([stuck('worker')], 0)).toEqual([]);
    expect(w.due([{ name: 'worker', message: 'False KubeletNotReady: PLEG is not healthy' }], 20_000)).toEqual([]);
    expect(w.due([stuck('worker')], 25_000)).toEqual([]);
    expect(w.due([stuck('worker')], 54_999)).toEqual([]);
    expect(w.due([stuck('worker'), { name: 'control-plane', message: 'no Ready condition yet' }], 55_000)).toEqual(['worker']);
  });

  test('each node keeps its own clock', () => {
    const w = new CniWatch(30_000);
    w.due([stuck('a')], 0);
    w.due([stuck('a'), stuck('b')], 10_000);
    expect(w.due([stuck('a'), stuck('b')], 30_000)).toEqual(['a']);
    expect(w.due([stuck('b')], 40_000)).toEqual(['b']);
  });
});
