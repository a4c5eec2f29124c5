import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { timeouts } from '../../timeouts.ts';

/**
 * A size-limited filesystem for a component's data, as a persistent volume of a fixed size is:
 * an ext4 image file (sparse: it costs only what is written) loop-mounted under the stack's work
 * dir and bind-mounted into the container. Unlike a tmpfs it survives a container restart, so a
 * crash fault keeps the data; unlike the engine's disk it can really be filled (`disk-full`).
 * Needs root and a loop device; without them the stack runs on the container's own disk and
 * says so.
 */
export interface SizedFs {
  /** Host mount point, bind-mounted into the container. */
  dir: string;
  sizeMB: number;
}

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeouts.dockerCommand });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error.message) : ''}`.trim() };
}

export function createSizedFs(workDir: string, name: string, sizeMB: number): SizedFs | { unavailable: string } {
  if (process.getuid?.() !== 0) return { unavailable: 'loop-mounting a sized filesystem needs root' };
  const base = join(workDir, 'volumes');
  mkdirSync(base, { recursive: true });
  const img = join(base, `${name}.img`);
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  const steps: [string, string[]][] = [
    ['truncate', ['-s', `${sizeMB}M`, img]],
    // No blocks reserved for root: a full disk is full for every process in the container.
    ['mkfs.ext4', ['-q', '-F', '-m', '0', img]],
    // `-o loop` frees the loop device by itself at unmount.
    ['mount', ['-o', 'loop', img, dir]],
  ];
  for (const [cmd, args] of steps) {
    const r = run(cmd, args);
    if (!r.ok) {
      rmSync(img, { force: true });
      return { unavailable: `${cmd} failed: ${r.out.split('\n')[0]}` };
    }
  }
  return { dir, sizeMB };
}

/** Unmounts every filesystem mounted under `dir` (deepest first); returns what it unmounted. */
export function unmountUnder(dir: string): string[] {
  let mounts: string[];
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(`${dir}/`));
  } catch {
    return [];
  }
  const done: string[] = [];
  for (const m of mounts.sort((a, b) => b.length - a.length)) {
    // A lazy unmount cannot hang on a busy mount; the loop device goes when the last user does.
    if (run('umount', ['--lazy', m]).ok) done.push(m);
  }
  return done;
}
