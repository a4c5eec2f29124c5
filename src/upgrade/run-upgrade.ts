import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportsDir, repoRoot, workloadsDir } from '../paths.ts';
import { compare, compareSummary, loadRun, regressions, writeComparison } from '../report/compare.ts';
import { expandPaths, loadScenarios, ScenarioError } from '../scenario/load.ts';
import type { VenvOverrides } from '../targets/venv-overrides.ts';
import { progress } from '../util/progress.ts';
import { scenariosFor, sideDirs, type UpgradePlan } from './args.ts';
import { ensureVenv, venvDir } from './build-venv.ts';
import { COMPONENTS } from './components.ts';
import { requireVersion } from './pypi.ts';
import { pinnedVersion, venvSpec } from './venv-spec.ts';

/** How the CLI runs one side: the same run as `chaos NAME…`, on a stack with these venvs, results in `resultsFile`. */
export type RunSide = (side: { names: string[]; resultsFile: string; venvs: VenvOverrides; runId: string }) => Promise<number>;

/**
 * `upgrade COMPONENT FROM TO [NAME…]`: both versions checked on the index and installed before
 * any stack starts (a missing version costs seconds, not a stack start), then the same scenarios
 * on two stacks that differ only in that component's venv, then the comparison of the two runs.
 * Exit 1 on a regression (a silent or unobserved verdict FROM never gave), as `compare`.
 */
export async function runUpgrade(plan: UpgradePlan, runSide: RunSide): Promise<number> {
  const log = progress('upgrade');
  const c = COMPONENTS[plan.component];
  const names = scenariosFor(plan);
  const known = loadScenarios(expandPaths([join(repoRoot, 'scenarios')])).map((s) => s.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length) throw new ScenarioError(unknown.map((n) => `no scenario named '${n}'; known: ${known.join(', ')}`));

  const pkgs = [c.pkg, ...c.lockstep];
  log(`checking ${pkgs.join(', ')} ${plan.from} and ${plan.to} on the package index…`);
  await requireVersion(plan.component, pkgs, plan.from);
  await requireVersion(plan.component, pkgs, plan.to);

  const base = join(workloadsDir, c.workloadDir);
  const [req, lock] = ['requirements.txt', 'requirements.lock'].map((f) => (existsSync(join(base, f)) ? readFileSync(join(base, f), 'utf8') : ''));
  const venvs: Record<string, string> = {};
  for (const version of [plan.from, plan.to]) {
    // The version set-up pins is set-up's own venv: a second copy would be the same packages.
    if (pinnedVersion(req!, c.pkg) === version && existsSync(join(venvDir(c.workloadDir), '.stamp'))) {
      log(`${plan.component} ${version}: set-up's venv .venvs/${c.workloadDir} (it pins ${c.pkg}==${version})`);
      venvs[version] = venvDir(c.workloadDir);
      continue;
    }
    const built = await ensureVenv(venvSpec(plan.component, version, req!, lock!), `${plan.component} ${version}`, log, c.smoke);
    venvs[version] = built.dir;
  }

  const runId = process.env.MLOPS_CHAOS_RUN_ID ?? `upgrade-${plan.component}-${plan.from}-${plan.to}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const runDir = join(reportsDir, runId);
  const dirs = sideDirs(plan);
  const sides = [
    { label: 'from', version: plan.from, dir: join(runDir, dirs.from) },
    { label: 'to', version: plan.to, dir: join(runDir, dirs.to) },
  ];
  for (const [i, side] of sides.entries()) {
    log(`side ${i + 1}/2 (${side.label}): ${c.what} ${side.version}; scenarios ${names.join(', ')}`);
    const code = await runSide({ names, resultsFile: join(side.dir, 'results.json'), venvs: { [c.role]: venvs[side.version]! }, runId });
    // A mismatch with the scenarios' expectations is what an upgrade may well show: the comparison judges it.
    log(`side ${i + 1}/2 (${side.label}) done (its own run exited ${code}${code === 1 ? ': a verdict differs from its scenario\'s expectation or an experiment errored, see its matrix' : ''})`);
    if (!existsSync(join(side.dir, 'results.json'))) throw new Error(`upgrade: the ${side.label} side (${plan.component} ${side.version}) wrote no results; see its output above`);
  }
  const cmp = compare(loadRun(sides[0]!.dir), loadRun(sides[1]!.dir));
  const files = writeComparison(cmp, runDir);
  process.stdout.write(`${compareSummary(cmp, files)}\n`);
  return regressions(cmp).length ? 1 : 0;
}
