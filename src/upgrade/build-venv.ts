import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../paths.ts';
import { runToCompletion } from '../util/run-to-completion.ts';
import type { Progress } from '../util/progress.ts';
import { normalizeName, requirementName, type VenvSpec } from './venv-spec.ts';

/** Installing one venv on two busy cores: minutes; an hour means pip is stuck, not slow. */
const PIP_DEADLINE_MS = 30 * 60_000;
/** Each retry drops the lock pins pip named as conflicting; a handful is all a real version needs. */
const MAX_CONFLICT_RETRIES = 12;

export class VenvBuildFailed extends Error {}

/**
 * Lock pins pip says contradict the requested version (`The user requested (constraint) x==1`):
 * the new version needs something else there, which is the upgrade's doing, so they are let go.
 */
export function conflictingConstraints(pipOutput: string, kept: readonly string[] = [], pinned: readonly string[] = []): string[] {
  const named = [...pipOutput.matchAll(/The user requested \(constraint\) ([A-Za-z0-9._-]+)/g)].map((m) => normalizeName(m[1]!));
  // A bound the version needs (a compat line) stays; what the lock pins that wants the other side of it goes.
  const dependents = named.filter((n) => kept.includes(n)).flatMap((n) =>
    [...pipOutput.matchAll(new RegExp(`^\\s*([A-Za-z0-9._-]+) \\S+ depends on ${n.replace(/-/g, '[-_.]')}\\b`, 'gim'))].map((m) => normalizeName(m[1]!)),
  );
  // Once a pin is let go, pip blames the package the lock still pins at a version that wants the
  // other side ("fastapi 0.165.0 depends on starlette>=1.6.0" against the version's starlette==0.49.1).
  const causes = pipOutput.includes('The conflict is caused by:') ? pipOutput.slice(pipOutput.indexOf('The conflict is caused by:')) : '';
  const pinnedCauses = [...causes.matchAll(/^\s*([A-Za-z0-9._-]+) \S+ depends on /gim)].map((m) => normalizeName(m[1]!)).filter((n) => pinned.includes(n) && !kept.includes(n));
  return [...new Set([...named.filter((n) => !kept.includes(n)), ...dependents, ...pinnedCauses])];
}

export const venvDir = (name: string): string => join(repoRoot, '.venvs', name);

/**
 * Builds .venvs/<spec.name> once: a stamp that matches means it is there as specified (the way
 * scripts/setup skips its venvs). pip runs at nice 10 so a build beside a running experiment
 * does not steal the cores its timings depend on.
 */
export async function ensureVenv(spec: VenvSpec, label: string, log: Progress, smoke?: string): Promise<{ dir: string; builtMs: number | null; dropped: string[] }> {
  const dir = venvDir(spec.name);
  const stampFile = join(dir, '.stamp');
  if (existsSync(join(dir, 'bin', 'python')) && existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === spec.stamp) {
    log(`${label}: venv .venvs/${spec.name} is built (stamp matches)`);
    return { dir, builtMs: null, dropped: spec.dropped };
  }
  const t0 = Date.now();
  const logDir = join(repoRoot, '.tools', 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `venv-${spec.name}.log`);
  writeFileSync(logFile, `lock pins left out for this version: ${spec.dropped.join(' ') || 'none'}\n`);
  log(`${label}: building venv .venvs/${spec.name} (log ${logFile})…`);
  rmSync(dir, { recursive: true, force: true });
  const env = { PATH: process.env.PATH, HOME: process.env.HOME };
  const made = await runToCompletion('python3', ['-m', 'venv', dir], { env, deadlineMs: 120_000, what: `python3 -m venv ${dir}`, logFile });
  if (made.code !== 0) throw new VenvBuildFailed(`${label}: could not create the venv ${dir}: ${made.stderr.trim().slice(-500)}`);
  writeFileSync(join(dir, 'requirements.txt'), spec.requirements);
  const dropped = [...spec.dropped];
  let constraints = spec.constraints;
  for (let attempt = 0; ; attempt++) {
    writeFileSync(join(dir, 'constraints.txt'), constraints);
    const pip = await runToCompletion('nice', ['-n', '10', join(dir, 'bin', 'pip'), 'install', '--disable-pip-version-check', '--progress-bar', 'off', '-r', join(dir, 'requirements.txt'), '-c', join(dir, 'constraints.txt')], {
      env, deadlineMs: PIP_DEADLINE_MS, what: `pip to install ${label}`, logFile,
    });
    if (pip.code === 0) break;
    // Lines with a comment are the version's own compat bounds (venv-spec.ts): never let go.
    const kept = constraints.split('\n').filter((l) => l.includes('#')).map((l) => requirementName(l) ?? '').filter(Boolean);
    const pinned = constraints.split('\n').map((l) => requirementName(l) ?? '').filter(Boolean);
    const conflicts = conflictingConstraints(pip.stderr + pip.stdout, kept, pinned);
    if (conflicts.length === 0 || attempt >= MAX_CONFLICT_RETRIES) {
      rmSync(dir, { recursive: true, force: true });
      throw new VenvBuildFailed(`${label} cannot be installed (pip exit ${pip.code}; log ${logFile}): ${pip.stderr.trim().split('\n').slice(-6).join(' | ')}`);
    }
    const lines = constraints.split('\n');
    dropped.push(...lines.filter((l) => conflicts.includes(requirementName(l) ?? '')).map((l) => l.trim()));
    constraints = lines.filter((l) => !conflicts.includes(requirementName(l) ?? '')).join('\n');
    log(`${label}: the lock's pins of ${conflicts.join(', ')} contradict this version; installing again without them`);
  }
  if (smoke) {
    const imported = await runToCompletion(join(dir, 'bin', 'python'), ['-c', smoke], { env, deadlineMs: 300_000, what: `${label}: ${smoke}`, logFile });
    if (imported.code !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new VenvBuildFailed(`${label} installs but does not import (${smoke}; log ${logFile}): ${imported.stderr.trim().split('\n').slice(-2).join(' | ')}`);
    }
  }
  writeFileSync(join(dir, 'dropped-pins.txt'), `${dropped.join('\n')}\n`);
  writeFileSync(stampFile, spec.stamp);
  const builtMs = Date.now() - t0;
  log(`${label}: venv .venvs/${spec.name} built in ${(builtMs / 1000).toFixed(0)} s`);
  return { dir, builtMs, dropped };
}
