import { execFile, spawnSync } from 'node:child_process';
import { timeouts } from '../../timeouts.ts';

/**
 * The Docker CLI, for what testcontainers does not cover (pause, kill with a signal, resource
 * updates, network disconnects, labelled volumes) and for the reaper, which must work without a
 * testcontainers session. Every call has a deadline.
 */

/** Every container, network and volume a stack creates carries these; the reaper finds them by label. */
export const LABEL_STACK = 'org.mlops-chaos.stack';
/** `pid:startTime` of the runner that owns the stack; a dead owner means the stack is stale. */
export const LABEL_OWNER = 'org.mlops-chaos.owner';
export const LABEL_KEPT = 'org.mlops-chaos.kept';
export const LABEL_COMPONENT = 'org.mlops-chaos.component';

export class DockerError extends Error {
  constructor(readonly args: string[], readonly code: number | null, readonly output: string) {
    super(`docker ${args.join(' ')} failed (exit ${code}): ${output.trim().slice(-600)}`);
    this.name = 'DockerError';
  }
}

export function docker(args: string[], opts: { deadlineMs?: number; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('docker', args, { timeout: opts.deadlineMs ?? timeouts.dockerCommand, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new DockerError(args, typeof err.code === 'number' ? err.code : null, `${stderr}${stdout}` || err.message));
      else resolve(stdout);
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Synchronous, for exit hooks (an 'exit' handler cannot await). */
export function dockerSync(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: timeouts.dockerCommand });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** The engine's version, or undefined when none answers (the reaper's question: is there anything to reap?). */
export function engineVersion(): string | undefined {
  const r = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8', timeout: timeouts.dockerCommand });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

/** Throws a message that says what to do when no engine answers; returns the server version. */
export function requireEngine(): string {
  const r = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8', timeout: timeouts.dockerCommand });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error("the docker target needs a Docker engine, and no 'docker' client is on PATH: run 'bash scripts/docker-engine' (as root it installs and starts one)");
  if (r.status !== 0 || !r.stdout.trim()) throw new Error(`the docker target needs a Docker engine and none answers (${(r.stderr || r.stdout).trim().split('\n')[0]}): run 'bash scripts/docker-engine' (as root it starts dockerd and says why it cannot)`);
  return r.stdout.trim();
}

/** `docker ps/network ls/volume ls -q --filter label=…`, as ids. */
export async function listLabelled(kind: 'container' | 'network' | 'volume', label: string): Promise<string[]> {
  const cmd = kind === 'container' ? ['ps', '-aq'] : [kind, 'ls', '-q'];
  const out = await docker([...cmd, '--filter', `label=${label}`]);
  return out.split('\n').map((s) => s.trim()).filter(Boolean);
}

/** What each image says it carries (the factory's version label). */
export async function imageVersions(images: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const img of images) {
    const fmt = '{{index .Config.Labels "org.mlops-chaos.component"}}\t{{index .Config.Labels "org.mlops-chaos.version"}}';
    const [component, version] = (await docker(['image', 'inspect', '--format', fmt, img])).trim().split('\t');
    if (component && version) out[component] = version;
  }
  return out;
}
