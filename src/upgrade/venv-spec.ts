import { createHash } from 'node:crypto';
import { COMPONENTS, type ComponentName, type ComponentSpec } from './components.ts';
import { compareVersions } from './pypi.ts';

/**
 * The venv of one version of one component, as text pip reads: the workload's requirements with
 * the component (and what ships in lockstep with it) pinned to that version, and the workload's
 * lock as constraints, minus the pins that would contradict the new version. Everything else keeps
 * its locked version, so the two sides of an upgrade differ in the component and what it needs.
 */
export interface VenvSpec {
  /** .venvs/<name>: `<component>-<version>`. */
  name: string;
  requirements: string;
  constraints: string;
  /** Lock lines left out, for the build log: the reader should know what moved besides the component. */
  dropped: string[];
  /** Changes with any input, so a stale venv is rebuilt (as scripts/setup stamps its own). */
  stamp: string;
}

/** PEP 503's normal form: `Foo_Bar.baz` and `foo-bar-baz` are the same project. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The project name a requirement line starts with (`mlflow==3.17.2`, `boto3`, `x[extra]>=1`), or null for a comment/blank/option. */
export function requirementName(line: string): string | null {
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line.replace(/#.*/, ''));
  return m && !line.trim().startsWith('-') ? normalizeName(m[1]!) : null;
}

export function venvSpec(component: ComponentName, version: string, requirementsTxt: string, lockTxt: string): VenvSpec {
  const c: ComponentSpec = COMPONENTS[component];
  // An older release's known breakage replaces the lock's pin of that dependency with a bound.
  const compat = (c.compat ?? []).filter((k) => compareVersions(version, k.before) < 0);
  const compatNames = compat.map((k) => requirementName(k.constraint)!);
  const pinned = [c.pkg, ...c.lockstep].map(normalizeName);
  const loose = [...pinned, ...c.family.map(normalizeName), ...compatNames];
  const lines = requirementsTxt.split('\n');
  if (!lines.some((l) => requirementName(l) === normalizeName(c.pkg))) throw new Error(`workloads/${c.workloadDir}/requirements.txt does not name ${c.pkg}: nothing to replace`);
  const requirements = lines
    .map((l) => {
      const name = requirementName(l);
      return name && pinned.includes(name) ? `${l.replace(/#.*/, '').trim().replace(/\s*(\[[^\]]*\])?\s*([=<>!~].*)?$/, '$1')}==${version}` : l;
    })
    .join('\n');
  const dropped: string[] = [];
  const constraints = lockTxt
    .split('\n')
    .filter((l) => {
      const name = requirementName(l);
      if (name && loose.includes(name)) {
        dropped.push(l.trim());
        return false;
      }
      return true;
    })
    .join('\n')
    .concat(compat.map((k) => `${k.constraint}  # ${k.why}\n`).join(''));
  const stamp = createHash('sha256').update(`${component}\0${version}\0${requirements}\0${constraints}`).digest('hex').slice(0, 16);
  return { name: `${component}-${version}`, requirements, constraints, dropped, stamp };
}

/** The version requirements.txt pins `pkg` to (`mlflow==3.17.2` → 3.17.2), or null. */
export function pinnedVersion(requirementsTxt: string, pkg: string): string | null {
  for (const l of requirementsTxt.split('\n')) {
    if (requirementName(l) !== normalizeName(pkg)) continue;
    const m = /==\s*([^\s;#,]+)/.exec(l);
    return m ? m[1]! : null;
  }
  return null;
}
