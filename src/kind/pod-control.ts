import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Exec, type V1Status } from '@kubernetes/client-node';
import { procInfo } from '../targets/local/proc.ts';
import { timeouts } from '../timeouts.ts';
import { pollUntil } from '../util/poll.ts';
import type { KindCluster } from './cluster.ts';

/**
 * A component's one container, reached the way a node's kernel sees it: kind's nodes are
 * containers on this machine's engine, so every pod's container is a cgroup of this machine's
 * kernel. Freezing it (the cgroup freezer, as `docker pause` does) stops every process in it at
 * once, a gunicorn's workers with its master; SIGKILL of its first process ends them all, and the
 * kubelet then restarts the container as it would after a crash. Neither needs a tool in the node.
 */
export interface PodContainer {
  pod: string;
  /** containerd's id, from the pod's status. */
  id: string;
  /** This machine's pid of its first process, and that process's start time (for records). */
  pid: number;
  startTime: number;
}

/** The Running, not deleting pod of `app` and its container, or why there is none. */
export async function runningContainer(cluster: KindCluster, namespace: string, labelSelector: string): Promise<PodContainer> {
  const pods = (await cluster.core.listNamespacedPod({ namespace, labelSelector })).items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
  const pod = pods[0];
  const cid = pod?.status?.containerStatuses?.[0]?.containerID?.replace(/^containerd:\/\//, '');
  if (!pod || !cid) throw new Error(`no running container in namespace ${namespace} for '${labelSelector}' (${pods.length} running pods)`);
  const dir = cgroupDir('freezer', cid) ?? cgroupDir('', cid);
  if (!dir) throw new Error(`the cgroup of container ${cid.slice(0, 12)} (pod ${pod.metadata?.name}) is not under /sys/fs/cgroup`);
  const pid = Number(readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').find(Boolean));
  return { pod: pod.metadata!.name!, id: cid, pid, startTime: procInfo(pid)?.startTime ?? 0 };
}

/**
 * The container's cgroup directory in one cgroup v1 controller (`freezer`), or in the unified v2
 * tree (''): found by the container id in its name, whichever driver (cgroupfs, systemd) named it.
 */
function cgroupDir(controller: string, cid: string): string | undefined {
  if (!/^[0-9a-f]{12,}$/.test(cid)) throw new Error(`not a container id: '${cid}'`);
  const root = join('/sys/fs/cgroup', controller);
  const walk = (dir: string, depth: number): string | undefined => {
    if (depth > 10) return undefined;
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return undefined;
    }
    for (const e of entries) if (e.includes(cid)) return join(dir, e);
    for (const e of entries) {
      const found = walk(join(dir, e), depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  return existsSync(root) ? walk(root, 0) : undefined;
}

/** Freezes (true) or thaws (false) the container's processes and waits until the kernel says so. */
export async function freezeContainer(cid: string, frozen: boolean): Promise<void> {
  const v1 = cgroupDir('freezer', cid);
  if (v1) {
    writeFileSync(join(v1, 'freezer.state'), frozen ? 'FROZEN' : 'THAWED');
    await pollUntil(`container ${cid.slice(0, 12)} to be ${frozen ? 'frozen' : 'thawed'}`, timeouts.dockerCommand, async () => {
      const s = readFileSync(join(v1, 'freezer.state'), 'utf8').trim();
      return s === (frozen ? 'FROZEN' : 'THAWED') ? { done: true, value: undefined } : { done: false, note: s };
    });
    return;
  }
  const v2 = cgroupDir('', cid);
  if (!v2) {
    // Thawing a container that is gone is done already; freezing one is not.
    if (!frozen) return;
    throw new Error(`the cgroup of container ${cid.slice(0, 12)} is not under /sys/fs/cgroup`);
  }
  writeFileSync(join(v2, 'cgroup.freeze'), frozen ? '1' : '0');
}

/** Runs a command in a pod's container through the API server (what `kubectl exec` does); its stdout, or an error with what it printed. */
export async function podExec(cluster: KindCluster, namespace: string, pod: string, container: string, command: string[], input?: string): Promise<string> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const stdin = input === undefined ? null : new PassThrough();
  let done: V1Status | undefined;
  const ws = await new Exec(cluster.kc).exec(namespace, pod, container, command, out, err, stdin, false, (st) => (done = st));
  if (stdin) stdin.end(input);
  const s = await pollUntil<V1Status>(`${command[0]} in pod ${namespace}/${pod} to finish`, timeouts.mlflowClientOp, async () => {
    const st: V1Status | undefined = done;
    return st ? { done: true as const, value: st } : { done: false as const };
  }).catch((e: Error) => {
    ws.close();
    throw e;
  });
  if (s.status !== 'Success') throw new Error(`${command.join(' ')} in pod ${namespace}/${pod} failed: ${s.message ?? s.reason ?? 'no status'}: ${(stdout + stderr).slice(-500)}`);
  return stdout + stderr;
}
