import type { ImageSource } from '../images/catalog.ts';
import { describeReaped, reapStale, type Reaped } from './local/reaper.ts';
import type { Stack, TargetName } from './stack.ts';
import type { VenvOverrides } from './venv-overrides.ts';

/** Targets scenarios run on. */
export const RUNNABLE_TARGETS = ['local', 'docker', 'kind'] as const;
export type RunnableTarget = (typeof RUNNABLE_TARGETS)[number];

export function isRunnableTarget(s: string): s is RunnableTarget {
  return (RUNNABLE_TARGETS as readonly string[]).includes(s);
}

/** What the CLI prints of any started stack, beside the Stack interface. */
export interface StartedStack extends Stack {
  readonly workDir: string;
  /** Every component's log, as the stack writes it (the reports keep a redacted copy). */
  readonly logsDir: string;
  readonly pids: { name: string; pid: number; startTime: number }[];
}

export interface StartOptions {
  runId?: string;
  /** kind only: leave the cluster running after the stack ends. */
  keep?: boolean;
  /** docker only: the factory's images (default) or the upstream ones a registry would give. */
  images?: ImageSource;
  /** Per-role venvs for an upgrade run (local only: the docker target's images carry set-up's venvs). */
  venvs?: VenvOverrides;
}

/** Why a target cannot take per-version venvs, or null when it can. */
export function venvOverridesRefusal(target: RunnableTarget): string | null {
  return target === 'local' ? null : `the ${target} target runs the images the factory built from set-up's venvs; per-version images are not built yet, so upgrade runs on --target local only`;
}

/** Starts a stack on `target`. Each target is imported only when chosen, so local needs no Docker packages loaded. */
export async function startStack(target: RunnableTarget, opts: StartOptions = {}): Promise<StartedStack> {
  if (opts.venvs && Object.keys(opts.venvs).length) {
    const refused = venvOverridesRefusal(target);
    if (refused) throw new Error(refused);
  }
  if (target === 'docker') {
    const { DockerStack } = await import('./docker/docker-stack.ts');
    return DockerStack.start(opts);
  }
  if (opts.images) throw new Error("--images applies to the docker target only (add '--target docker')");
  if (target === 'kind') {
    const { KindStack } = await import('./kind/kind-stack.ts');
    return KindStack.start({ ...(opts.runId ? { runId: opts.runId } : {}), ...(opts.keep ? { keep: true } : {}) });
  }
  const { LocalStack } = await import('./local/local-stack.ts');
  return LocalStack.start({ runId: opts.runId, ...(opts.venvs ? { venvs: opts.venvs } : {}) });
}

/** Reaps what crashed runs left on every target: processes, toxics and dirs (local), kind clusters, containers, networks and volumes (docker). */
export async function reapAll(opts: { includeKept?: boolean } = {}): Promise<Reaped[]> {
  const { reapDocker } = await import('./docker/reaper.ts');
  const { reapKind } = await import('../kind/reaper.ts');
  return [...(await reapStale(opts)), ...(await reapKind(opts)), ...(await reapDocker(opts))];
}

export { describeReaped };
export type { TargetName };
