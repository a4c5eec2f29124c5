import { COMPONENTS, isComponentName, type ComponentName } from './components.ts';

/** Bad `upgrade` usage: exit 2, nothing built or started. */
export class UpgradeUsageError extends Error {}

export interface UpgradePlan {
  component: ComponentName;
  from: string;
  to: string;
  /** Scenarios to run on both sides; empty: the component's default set. */
  names: string[];
  cpuHog: boolean;
}

/** A release as PyPI spells it (`3.17.2`, `0.15.0rc1`, `2.22.5.post1`): anything else is a typo, not a version. */
const VERSION = /^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?$/;

export const UPGRADE_USAGE = `upgrade COMPONENT FROM TO [NAME…] [--target local] [--cpu-hog]; COMPONENT is one of ${Object.keys(COMPONENTS).join(', ')}`;

/**
 * `upgrade COMPONENT FROM TO [NAME…]`, checked before anything is built: a typo found after two
 * venv builds and a stack start would cost minutes. `--target docker` is refused here because
 * its images carry set-up's venvs; per-version images are not built.
 */
export function parseUpgradeArgs(args: string[]): UpgradePlan {
  const rest = [...args];
  const t = rest.indexOf('--target');
  if (t >= 0) {
    const target = rest[t + 1];
    if (target === 'docker') throw new UpgradeUsageError('upgrade runs on the local target only: the docker target runs the images the factory built from set-up\'s venvs, and per-version images are not built');
    if (target !== 'local') throw new UpgradeUsageError(`--target must be local for upgrade; got '${target ?? 'nothing'}'`);
    rest.splice(t, 2);
  }
  const cpuHog = rest.includes('--cpu-hog');
  const positional = rest.filter((a) => a !== '--cpu-hog');
  const unknown = positional.filter((a) => a.startsWith('--'));
  if (unknown.length) throw new UpgradeUsageError(`unknown option ${unknown.join(', ')}; usage: ${UPGRADE_USAGE}`);
  const [component, from, to, ...names] = positional;
  if (!component || !from || !to) throw new UpgradeUsageError(`upgrade needs COMPONENT, FROM and TO; usage: ${UPGRADE_USAGE}`);
  if (!isComponentName(component)) throw new UpgradeUsageError(`unknown component '${component}'; one of: ${Object.entries(COMPONENTS).map(([k, c]) => `${k} (${c.what})`).join(', ')}`);
  const bad = [from, to].filter((v) => !VERSION.test(v));
  if (bad.length) throw new UpgradeUsageError(`${component}: '${bad.join("', '")}' is not a version as PyPI spells it (e.g. ${COMPONENTS[component].pkg === 'mlflow' ? '3.17.2' : '0.21.0'})`);
  if (from === to) throw new UpgradeUsageError(`${component}: FROM and TO are both ${from}; an upgrade compares two versions`);
  return { component, from, to, names: [...new Set(names)], cpuHog };
}

/** The scenarios a side runs: the named ones, or the component's defaults. */
export function scenariosFor(plan: UpgradePlan): string[] {
  return plan.names.length ? plan.names : [...COMPONENTS[plan.component].defaultScenarios];
}

/** Directory names of the two sides under the run directory. */
export function sideDirs(plan: UpgradePlan): { from: string; to: string } {
  return { from: `from-${plan.from}`, to: `to-${plan.to}` };
}
