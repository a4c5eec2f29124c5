import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GenericContainer, type StartedTestContainer, type WaitStrategy } from 'testcontainers';
import { timeouts } from '../../timeouts.ts';
import { LOOPBACK } from '../../util/ports.ts';
import { redact } from '../../util/redact.ts';
import { procInfo } from '../local/proc.ts';
import { ProcessExited } from '../local/managed-process.ts';
import { cpus } from 'node:os';
import type { ContainerState } from '../stack.ts';
import { docker, dockerSync, LABEL_COMPONENT } from './engine.ts';

/**
 * The limits every container starts with: as good as none (all of the machine's cores, memory
 * beyond what the stack uses), but explicit, because `docker update` can lower a limit and restore
 * it, yet never remove one. A fault that cut a limit restores these.
 */
export const DEFAULT_LIMITS = { memoryBytes: 8 * 1024 ** 3, cpus: cpus().length };

/** testcontainers publishes on every interface; the suite's rule is loopback only. */
class LoopbackContainer extends GenericContainer {
  protected override async beforeContainerCreated(): Promise<void> {
    for (const bindings of Object.values(this.hostConfig.PortBindings ?? {}) as { HostIp?: string }[][]) {
      for (const b of bindings) b.HostIp = LOOPBACK;
    }
  }
}

/** Readiness is the component's own real check (the same as local), not "a port listens". */
class StartedOnly implements WaitStrategy {
  private timeoutMs: number = timeouts.containerStart;
  async waitUntilReady(): Promise<void> {}
  withStartupTimeout(ms: number): this {
    this.timeoutMs = ms;
    return this;
  }
  isStartupTimeoutSet(): boolean {
    return true;
  }
  getStartupTimeout(): number {
    return this.timeoutMs;
  }
}

export interface ServiceSpec {
  /** Component name: the network alias other containers reach it by, and the container's name suffix. */
  name: string;
  image: string;
  /** Arguments to the image's entrypoint; absent: the image's own command. */
  command?: string[];
  env: Record<string, string>;
  /** Container port → host port on 127.0.0.1, fixed so that a restart keeps the address. */
  publish?: Record<number, number>;
  /** Files written into the container before it starts (configs that carry secrets stay out of argv). */
  files?: { target: string; content: string; mode?: number }[];
  /** Host dir → container path. */
  mounts?: { source: string; target: string }[];
  user?: string;
}

/**
 * One component as a container on the stack's network, started by testcontainers. The process
 * faults act on the container: SIGKILL is `docker kill` (its init and everything under it, as the
 * kernel's OOM killer or a node failure would), SIGSTOP/SIGCONT are the cgroup freezer (`docker
 * pause`), and a restart starts the same container again, or a new one when the environment
 * changes (Docker cannot change a container's environment).
 */
export class ContainerService {
  private container: StartedTestContainer | undefined;
  private hostPid = 0;
  private hostPidStart = 0;
  private readonly waiters = new Set<ChildProcess>();
  private envOverride = false;

  constructor(
    private readonly spec: ServiceSpec,
    private readonly stack: { id: string; network: string; labels: Record<string, string>; logsDir: string },
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get id(): string {
    if (!this.container) throw new Error(`container ${this.spec.name} is not started`);
    return this.container.getId();
  }

  get containerName(): string {
    return `mlops-chaos-${this.stack.id}-${this.spec.name}`;
  }

  get pid(): number {
    return this.hostPid;
  }

  get startTime(): number {
    return this.hostPidStart;
  }

  get image(): string {
    return this.spec.image;
  }

  async start(env?: Record<string, string>): Promise<void> {
    let c = new LoopbackContainer(this.spec.image)
      .withName(this.containerName)
      .withNetworkMode(this.stack.network)
      .withNetworkAliases(this.spec.name)
      .withEnvironment({ ...this.spec.env, ...env })
      .withLabels({ ...this.stack.labels, [LABEL_COMPONENT]: this.spec.name })
      .withExposedPorts(...Object.entries(this.spec.publish ?? {}).map(([container, host]) => ({ container: Number(container), host })))
      .withResourcesQuota({ memory: DEFAULT_LIMITS.memoryBytes / 1024 ** 3, cpu: DEFAULT_LIMITS.cpus })
      .withWaitStrategy(new StartedOnly())
      .withStartupTimeout(timeouts.containerStart);
    if (this.spec.command) c = c.withCommand(this.spec.command);
    if (this.spec.user) c = c.withUser(this.spec.user);
    if (this.spec.mounts?.length) c = c.withBindMounts(this.spec.mounts.map((m) => ({ ...m, mode: 'rw' as const })));
    if (this.spec.files?.length) c = c.withCopyContentToContainer(this.spec.files.map((f) => ({ content: f.content, target: f.target, mode: f.mode ?? 0o644 })));
    this.container = await c.start();
    await this.refreshPid();
  }

  private async refreshPid(): Promise<void> {
    const pid = Number((await docker(['inspect', '--format', '{{.State.Pid}}', this.id])).trim());
    this.hostPid = pid;
    this.hostPidStart = procInfo(pid)?.startTime ?? 0;
  }

  async signal(sig: 'SIGSTOP' | 'SIGCONT' | 'SIGKILL'): Promise<void> {
    if (sig === 'SIGSTOP') await docker(['pause', this.id]);
    else if (sig === 'SIGCONT') await docker(['unpause', this.id]).catch((err: Error) => {
      if (!/is not paused/.test(err.message)) throw err;
    });
    else await docker(['kill', '--signal', 'KILL', this.id]).catch((err: Error) => {
      if (!/is not running/.test(err.message)) throw err;
    });
  }

  /**
   * Starts it again: the same container (its writable layer, so its data, survives), or a new one
   * when `env` is added for this start, or when the running one carries such an addition (the next
   * plain restart is the original again, as on local).
   */
  async restart(env?: Record<string, string>): Promise<void> {
    await this.signal('SIGCONT');
    if (env || this.envOverride) {
      await this.remove();
      await this.start(env);
      this.envOverride = env !== undefined;
      return;
    }
    await docker(['stop', '--time', '2', this.id]);
    await docker(['start', this.id]);
    await this.refreshPid();
  }

  async state(): Promise<ContainerState> {
    const fmt = '{{.State.Running}}\t{{.State.Paused}}\t{{.State.OOMKilled}}\t{{.State.ExitCode}}\t{{.HostConfig.Memory}}\t{{.HostConfig.NanoCpus}}\t{{range $k, $v := .NetworkSettings.Networks}}{{$k}},{{end}}';
    const [running, paused, oom, exit, mem, nano, nets] = (await docker(['inspect', '--format', fmt, this.id])).trim().split('\t');
    return {
      running: running === 'true', paused: paused === 'true', oomKilled: oom === 'true', exitCode: Number(exit),
      memoryBytes: Number(mem), cpus: Number(nano) / 1e9, networks: (nets ?? '').split(',').filter(Boolean),
    };
  }

  /** `docker update`; null restores the start limit (see DEFAULT_LIMITS). */
  async setLimits(limits: { memoryBytes?: number | null; cpus?: number | null }): Promise<void> {
    const args: string[] = [];
    if (limits.memoryBytes !== undefined) {
      const m = String(limits.memoryBytes ?? DEFAULT_LIMITS.memoryBytes);
      // Swap equal to memory: the limit is the limit, with no swap to spill into.
      args.push('--memory', m, '--memory-swap', m);
    }
    if (limits.cpus !== undefined) args.push('--cpus', String(limits.cpus ?? DEFAULT_LIMITS.cpus));
    if (args.length) await docker(['update', ...args, this.id]);
  }

  /** Bytes the container's memory cgroup charges now (cgroup v1 or v2), via the engine's own stats. */
  async memoryUsage(): Promise<number> {
    const out = (await docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', this.id])).trim();
    const m = out.match(/^([\d.]+)\s*([KMGT]?i?B)/);
    if (!m) throw new Error(`docker stats gave no memory usage for ${this.spec.name}: '${out}'`);
    const unit: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9 };
    return Math.round(Number(m[1]) * (unit[m[2]!] ?? 1));
  }

  async disconnect(): Promise<void> {
    await docker(['network', 'disconnect', '--force', this.stack.network, this.id]);
  }

  async connect(): Promise<void> {
    await docker(['network', 'connect', '--alias', this.spec.name, this.stack.network, this.id]);
  }

  async exec(command: string[]): Promise<string> {
    return docker(['exec', this.id, ...command]);
  }

  /** Rejects when the container stops running: pass as `abort` while waiting for readiness. */
  failOnExit(): Promise<never> {
    const id = this.id;
    return new Promise<never>((_, reject) => {
      const w = spawn('docker', ['wait', id], { stdio: ['ignore', 'pipe', 'ignore'] });
      // A watcher must never keep the runner alive: the container's removal ends it anyway.
      w.unref();
      (w.stdout as unknown as { unref?: () => void } | null)?.unref?.();
      this.waiters.add(w);
      let out = '';
      w.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      w.once('exit', () => {
        this.waiters.delete(w);
        const code = Number(out.trim());
        if (Number.isFinite(code) && out.trim()) reject(new ProcessExited(this.spec.name, code, null, this.logTail()));
      });
    });
  }

  logTail(lines = 20): string {
    const r = dockerSync(['logs', '--tail', String(lines), this.container?.getId() ?? this.containerName]);
    return redact(r.out);
  }

  /** Saves the container's log (redacted) and removes it; idempotent. */
  async remove(): Promise<void> {
    if (!this.container) return;
    const id = this.container.getId();
    this.container = undefined;
    const logs = dockerSync(['logs', '--timestamps', id]);
    writeFileSync(join(this.stack.logsDir, `${this.spec.name}.log`), redact(logs.out), { flag: 'a' });
    await docker(['rm', '--force', '--volumes', id]).catch((err: Error) => {
      if (!/No such container/.test(err.message)) throw err;
    });
    for (const w of this.waiters) w.kill('SIGKILL');
    this.waiters.clear();
  }
}
