import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { FAULTS } from '../faults/index.ts';
import { FAULT_TYPES, type FaultType } from '../faults/types.ts';
import { WORKLOADS, isWorkload, type WorkloadName } from '../probes/index.ts';
import { EDGES, PROCESSES, isEdgeName, isProcessName, type ProcessName } from '../targets/stack.ts';
import type { ExpectableVerdict } from '../verdict/types.ts';
import { formatDuration, parseDuration } from './duration.ts';
import { parseAutoscale } from './autoscale-block.ts';
import { parseMesh } from './mesh-block.ts';
import type { BudgetSpec, Expectation, P95Spec, Platform, Scenario } from './types.ts';

const PLATFORMS: Platform[] = ['mlflow', 'kubeflow'];
/** What a scenario may expect; `unobserved` is a verdict the engine gives, never one to plan for. */
const VERDICTS: ExpectableVerdict[] = ['resilient', 'observable', 'silent'];
/** Processes a scenario may start afresh under a fault: the servers whose start-up reads a dependency. */
const RESTARTABLE = ['mlflow-serving', 'kserve', 'mlflow'] as const;
const TOP_LEVEL = ['name', 'description', 'platforms', 'workload', 'fault', 'expect', 'deadlines', 'client', 'budget', 'steady', 'dependencyFault', 'mesh', 'autoscale', 'notUnderCpuHog'];

const MINUTE = 60_000;

/**
 * Upper bounds on what a scenario may ask for, so a typo (`duration: 100000m`, 69 days) fails
 * before anything is injected instead of holding the shared stack broken. Each bound leaves ample
 * room above the longest value a shipped scenario uses (in brackets):
 * - fault.duration 15m [45s]: the whole 31-scenario matrix runs in about 16 minutes; one fault held
 *   longer than that is a mistake, and the fault stays on the stack (recorded for the next run to
 *   revert) for as long as it lasts.
 * - deadlines.operation 10m [90s, a KFP pipeline]: an operation with no answer for 10 minutes is a
 *   hang by any user's measure; a larger deadline would stop the `hang` rule from ever firing.
 * - deadlines.recovery 15m [120s]: as long as the longest fault; a platform not back by then has
 *   not recovered, and waiting longer only stalls the run before it says `no-recovery`.
 * - deadlines.healthGrace 5m [5s, the default]: uptime checks alert within minutes; a grace longer
 *   than that would excuse a /health that lies for longer than any alerting policy tolerates.
 * - steady 5m [1.5s, the default]: hundreds of ops per probe, plenty for the steady state and the
 *   median a relative p95 scales from; longer only delays the fault.
 * - budget.p95 10m [5s]: the operation deadline's bound; an op slower than its deadline is a hang,
 *   so a p95 budget above it could never decide anything.
 * - budget.p95 as a factor: more than 1x, since the steady state itself puts half its ops above
 *   the median; at most 100x, beyond which the budget is no budget and an absolute one says so.
 */
export const LIMITS = {
  durations: {
    'fault.duration': { maxMs: 15 * MINUTE, what: 'a fault may last' },
    'deadlines.operation': { maxMs: 10 * MINUTE, what: 'an operation may take before it is a hang' },
    'deadlines.recovery': { maxMs: 15 * MINUTE, what: 'recovery may take after the fault is reverted' },
    'deadlines.healthGrace': { maxMs: 5 * MINUTE, what: 'a health check may stay green while its capability fails' },
    steady: { maxMs: 5 * MINUTE, what: 'a steady-state observation may last' },
    'budget.p95': { maxMs: 10 * MINUTE, what: 'a p95 budget may allow' },
  },
  p95Factor: { above: 1, max: 100 },
} as const;
type BoundedField = keyof typeof LIMITS.durations;

/** When p95 is relative or not given, the absolute budget the engine has always used. */
const DEFAULT_P95_MS = 2_000;

/** A positive duration within its field's bound, or the problem, naming what is allowed. */
function boundedDuration(field: BoundedField, v: unknown): { ms: number } | { problem: string } {
  const { maxMs, what } = LIMITS.durations[field];
  const d = parseDuration(v);
  if (d === undefined || d <= 0) return { problem: `'${String(v)}' is not a positive duration; use e.g. 30s, 500ms, 2m (at most ${formatDuration(maxMs)})` };
  if (d > maxMs) return { problem: `'${String(v)}' is longer than the ${formatDuration(maxMs)} ${what}` };
  return { ms: d };
}

/** `p95: 5s` (absolute), `p95: 10x` (times the capability's steady-state median), or absent. */
function parseP95(v: unknown): { p95: P95Spec } | { problem: string } {
  if (v === undefined) return { p95: { kind: 'default' } };
  const { above, max } = LIMITS.p95Factor;
  const factor = typeof v === 'string' ? /^(\d+(?:\.\d+)?)x$/.exec(v.trim()) : null;
  if (factor) {
    const n = Number(factor[1]);
    if (n <= above || n > max) return { problem: `'${v}' must be more than ${above}x and at most ${max}x the capability's steady-state median` };
    return { p95: { kind: 'relative', factor: n } };
  }
  if (parseDuration(v) === undefined) {
    const { maxMs } = LIMITS.durations['budget.p95'];
    return { problem: `'${String(v)}' is neither a duration (e.g. 5s, at most ${formatDuration(maxMs)}) nor a multiple of the capability's steady-state median (e.g. 10x, more than ${above}x and at most ${max}x)` };
  }
  const d = boundedDuration('budget.p95', v);
  return 'ms' in d ? { p95: { kind: 'absolute', ms: d.ms } } : d;
}

/** Every problem in every file, each naming the file, the field and what is allowed. */
export class ScenarioError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid scenario input:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ScenarioError';
  }
}

/** Which platforms a workload drives; serving.bad-input drives both servers. */
function platformsOf(w: WorkloadName): Platform[] {
  if (w === 'serving.bad-input') return ['mlflow', 'kubeflow'];
  return [w.startsWith('mlflow.') ? 'mlflow' : 'kubeflow'];
}

/** Capabilities each workload's probe emits, for checking `expect` keys without starting anything. */
export function capabilitiesOf(workloads: WorkloadName[]): string[] {
  return [...new Set(workloads.flatMap((w) => WORKLOADS[w]().capabilities))];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function validateScenario(file: string, raw: unknown): Scenario {
  const errs: string[] = [];
  const bad = (field: string, msg: string) => errs.push(`${file}: ${field}: ${msg}`);
  if (!isObj(raw)) throw new ScenarioError([`${file}: the file must be a YAML mapping with fields ${TOP_LEVEL.join(', ')}`]);
  for (const k of Object.keys(raw)) if (!TOP_LEVEL.includes(k)) bad(k, `unknown field; allowed: ${TOP_LEVEL.join(', ')}`);

  const name = raw.name;
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(name)) bad('name', 'required: lowercase letters, digits and dashes');
  if (typeof raw.description !== 'string' || raw.description.trim() === '') bad('description', 'required: what the scenario breaks and when');

  const platforms = Array.isArray(raw.platforms) ? raw.platforms : [];
  if (platforms.length === 0) bad('platforms', `required: a non-empty list of ${PLATFORMS.join(' | ')}`);
  for (const p of platforms) if (!PLATFORMS.includes(p as Platform)) bad('platforms', `unknown platform '${String(p)}'; allowed: ${PLATFORMS.join(', ')}`);

  const workload = Array.isArray(raw.workload) ? raw.workload : [];
  if (workload.length === 0) bad('workload', `required: a non-empty list of ${Object.keys(WORKLOADS).join(', ')}`);
  for (const w of workload) {
    if (typeof w !== 'string' || !isWorkload(w)) bad('workload', `unknown workload '${String(w)}'; allowed: ${Object.keys(WORKLOADS).join(', ')}`);
    else if (!platformsOf(w).every((p) => platforms.includes(p))) bad('workload', `'${w}' belongs to platform ${platformsOf(w).join(' and ')}, which is not in platforms`);
  }
  const workloads = workload.filter((w): w is WorkloadName => typeof w === 'string' && isWorkload(w));

  // fault
  let fault: Scenario['fault'] = null;
  let observeMs = 0;
  let dependencyFault = raw.dependencyFault === undefined ? true : raw.dependencyFault;
  if (typeof dependencyFault !== 'boolean') {
    bad('dependencyFault', 'must be true or false');
    dependencyFault = true;
  }
  const f = raw.fault;
  if (!isObj(f)) bad('fault', `required: a mapping with type (${[...FAULT_TYPES, 'none'].join(' | ')}), edge or process, params, duration`);
  else {
    const FAULT_FIELDS = ['type', 'edge', 'process', 'workload', 'params', 'duration', 'restart'];
    for (const k of Object.keys(f)) if (!FAULT_FIELDS.includes(k)) bad(`fault.${k}`, `unknown field; allowed: ${FAULT_FIELDS.join(', ')}`);
    const d = f.duration === undefined ? undefined : boundedDuration('fault.duration', f.duration);
    if (d === undefined) bad('fault.duration', `required: a positive duration like 30s, 500ms or 2m (at most ${formatDuration(LIMITS.durations['fault.duration'].maxMs)})`);
    else if ('problem' in d) bad('fault.duration', d.problem);
    else observeMs = d.ms;
    const type = f.type;
    if (type === 'none') {
      if (f.edge !== undefined || f.process !== undefined || f.workload !== undefined || f.params !== undefined || f.restart !== undefined) bad('fault', "type none (a baseline) takes only 'duration'");
    } else if (typeof type !== 'string' || !(FAULT_TYPES as readonly string[]).includes(type)) {
      bad('fault.type', `${type === undefined ? 'required' : `unknown fault '${String(type)}'`}; allowed: ${[...FAULT_TYPES, 'none'].join(', ')}`);
      if (f.edge !== undefined && !(typeof f.edge === 'string' && isEdgeName(f.edge))) bad('fault.edge', `unknown edge '${String(f.edge)}'; allowed: ${EDGES.join(', ')}`);
      if (f.process !== undefined && !(typeof f.process === 'string' && isProcessName(f.process))) bad('fault.process', `unknown process '${String(f.process)}'; allowed: ${PROCESSES.join(', ')}`);
    } else {
      const mod = FAULTS[type as FaultType];
      let target = '';
      // Each kind of fault names its target in one field: edge, process, or (a client's) workload.
      const field = mod.on === 'client' ? 'workload' : mod.on;
      for (const k of (['edge', 'process', 'workload'] as const).filter((k) => k !== field && f[k] !== undefined)) bad(`fault.${k}`, `${type} acts on ${field === 'edge' ? 'an edge' : `a ${field}`}; use fault.${field}`);
      if (mod.on === 'client') {
        const allowed = mod.targets ?? [];
        if (typeof f.workload !== 'string' || !allowed.includes(f.workload)) bad('fault.workload', `${f.workload === undefined ? 'required' : `'${String(f.workload)}' has no client ${type} can kill`}; allowed: ${allowed.join(', ')}`);
        else if (!workloads.includes(f.workload as WorkloadName)) bad('fault.workload', `'${f.workload}' is not in this scenario's workload list`);
        else target = f.workload;
      } else if (mod.on === 'edge') {
        const allowed: readonly string[] = mod.targets ?? EDGES;
        if (typeof f.edge !== 'string' || !allowed.includes(f.edge)) bad('fault.edge', `${f.edge === undefined ? 'required' : `'${String(f.edge)}' is not an edge ${type} acts on`}; allowed: ${allowed.join(', ')}`);
        else target = f.edge;
      } else {
        const allowed = mod.targets ?? PROCESSES;
        if (typeof f.process !== 'string' || !allowed.includes(f.process)) bad('fault.process', `${f.process === undefined ? 'required' : `'${String(f.process)}' is not a process ${type} acts on`}; allowed: ${allowed.join(', ')}`);
        else target = f.process;
      }
      const params: Record<string, number> = {};
      const given = f.params === undefined ? {} : f.params;
      if (!isObj(given)) bad('fault.params', 'must be a mapping');
      else {
        const allowed = Object.keys(mod.params);
        for (const [k, v] of Object.entries(given)) {
          const spec = mod.params[k];
          if (!spec) {
            bad(`fault.params.${k}`, `not a parameter of ${type}; allowed: ${allowed.length ? allowed.join(', ') : 'none'}`);
            continue;
          }
          if (typeof v !== 'number' || !Number.isFinite(v) || v < spec.min || (spec.max !== undefined && v > spec.max)) {
            bad(`fault.params.${k}`, `must be a number ≥ ${spec.min}${spec.max !== undefined ? ` and ≤ ${spec.max}` : ''} (${spec.doc})`);
          } else params[k] = v;
        }
        for (const [k, spec] of Object.entries(mod.params)) {
          if (!(k in given) && spec.default === undefined) bad(`fault.params.${k}`, `required for ${type} (${spec.doc})`);
          else if (!(k in given) && spec.default !== undefined) params[k] = spec.default;
        }
      }
      let restart: ProcessName | undefined;
      if (f.restart !== undefined) {
        if (mod.on !== 'edge' && !mod.actsOnNewStarts) bad('fault.restart', `only an edge fault, or a fault on what a new start needs (resource-quota), can hold while a process starts afresh; ${type} acts on a running ${mod.on}`);
        else if (typeof f.restart !== 'string' || !(RESTARTABLE as readonly string[]).includes(f.restart)) bad('fault.restart', `'${String(f.restart)}' cannot be started afresh; allowed: ${RESTARTABLE.join(', ')}`);
        else restart = f.restart as ProcessName;
      }
      fault = { type: type as FaultType, target, params, durationMs: observeMs, ...(restart ? { restart } : {}) };
    }
  }

  // expect
  const expect: Record<string, Expectation> = {};
  const caps = capabilitiesOf(workloads);
  if (raw.expect !== undefined && !isObj(raw.expect)) bad('expect', 'must map capabilities to verdicts');
  const expected = isObj(raw.expect) ? raw.expect : {};
  for (const [cap, e] of Object.entries(expected)) {
    if (!caps.includes(cap)) bad(`expect.${cap}`, `no workload of this scenario reports it; capabilities here: ${caps.join(', ')}`);
    const verdict = isObj(e) ? e.verdict : e;
    const known = isObj(e) ? e.known : undefined;
    if (verdict === 'unobserved') bad(`expect.${cap}`, `unobserved cannot be expected: it means the capability had too few ops in the fault window to judge; lengthen the fault or pick one of ${VERDICTS.join(', ')}`);
    else if (!VERDICTS.includes(verdict as ExpectableVerdict)) bad(`expect.${cap}`, `verdict must be one of ${VERDICTS.join(', ')} (or {verdict, known})`);
    else if (verdict === 'silent' && (typeof known !== 'string' || !/^https?:\/\//.test(known))) bad(`expect.${cap}.known`, 'an expected silent verdict needs known: <link to the upstream issue>');
    else expect[cap] = { verdict: verdict as ExpectableVerdict, ...(typeof known === 'string' ? { known } : {}) };
  }
  // A capability without an expectation is only checked for not being silent: resilient turning
  // observable (or observable turning resilient after an upstream fix) would go unnoticed.
  const unlisted = caps.filter((c) => !(c in expected));
  if (unlisted.length) bad('expect', `missing an expectation for ${unlisted.join(', ')}; each capability the workloads report needs one of ${VERDICTS.join(' | ')} (silent with known: <upstream link>)`);

  const num = (o: Obj, field: string, k: string, dflt: number, min: number, max = Infinity): number => {
    const v = o[k];
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      bad(`${field}.${k}`, `must be a number ≥ ${min}${max < Infinity ? ` and ≤ ${max}` : ''}`);
      return dflt;
    }
    return v;
  };
  const dur = (v: unknown, field: BoundedField, dflt: number): number => {
    if (v === undefined) return dflt;
    const d = boundedDuration(field, v);
    if ('problem' in d) {
      bad(field, d.problem);
      return dflt;
    }
    return d.ms;
  };
  const section = (k: string): Obj => {
    const v = raw[k];
    if (v === undefined) return {};
    if (!isObj(v)) {
      bad(k, 'must be a mapping');
      return {};
    }
    return v;
  };
  const dl = section('deadlines');
  const budget = section('budget');
  const client = section('client');
  const venv = client.venv ?? 'mlflow3';
  if (venv !== 'mlflow3' && venv !== 'mlflow2') bad('client.venv', "allowed: mlflow3 (the 3.x client), mlflow2 (the 2.x client, for version skew)");
  // A minimum only: the steady state also waits for 3 ok ops in a row of every capability, which
  // is what holds an MLflow client's (4-6 s, its Python start-up) and a pipeline's (one run); the
  // HTTP-only capabilities have 6 and more ops in 1.5 s, enough for a median under the budget's
  // floor (1 s, against a steady median of 5-30 ms).
  const steadyMs = dur(raw.steady, 'steady', 1_500);

  const deadlines = {
    operationMs: dur(dl.operation, 'deadlines.operation', 30_000),
    recoveryMs: dur(dl.recovery, 'deadlines.recovery', 60_000),
    healthGraceMs: dur(dl.healthGrace, 'deadlines.healthGrace', 5_000),
  };
  const p95 = parseP95(budget.p95);
  if ('problem' in p95) bad('budget.p95', p95.problem);
  // A bad p95 is reported above and throws below; 'default' only stands in for it until then.
  const budgetSpec: BudgetSpec = { minSuccessRate: num(budget, 'budget', 'successRate', 0.99, 0, 1), p95: 'p95' in p95 ? p95.p95 : { kind: 'default' } };
  // Until the engine reads budgetSpec, budget carries the absolute p95, or the old default otherwise.
  const budgetParsed = { minSuccessRate: budgetSpec.minSuccessRate, maxP95Ms: budgetSpec.p95.kind === 'absolute' ? budgetSpec.p95.ms : DEFAULT_P95_MS };
  const clientParsed = {
    maxRetries: num(client, 'client', 'maxRetries', 2, 0),
    backoffFactor: num(client, 'client', 'backoffFactor', 1, 0),
    timeoutSeconds: num(client, 'client', 'timeoutSeconds', 10, 1),
    venv: venv as 'mlflow3' | 'mlflow2',
  };
  const mesh = parseMesh(raw.mesh, bad);
  const autoscale = parseAutoscale(raw.autoscale, bad);
  const needs = fault?.target ? FAULTS[fault.type].needsSidecar : undefined;
  if (fault?.target && needs && !(raw.mesh !== undefined && mesh?.edge === fault.target && (needs === 'client' || mesh.server !== null))) {
    bad('fault.edge', `${fault.type} acts on the ${needs} sidecar of the scenario's mesh: add mesh: { edge: ${fault.target}, client: <release>${needs === 'server' ? ', server: <release>' : ''} }`);
  }
  const notUnderCpuHog = raw.notUnderCpuHog;
  if (notUnderCpuHog !== undefined && (typeof notUnderCpuHog !== 'string' || notUnderCpuHog.trim().length < 10)) {
    bad('notUnderCpuHog', 'allowed: a sentence (10 characters or more) saying why a busy neighbour changes what this scenario observes');
  }
  // Every section is read before this point, so one run reports every problem of the file.
  if (errs.length) throw new ScenarioError(errs);
  return {
    file,
    name: name as string,
    description: raw.description as string,
    platforms: platforms as Platform[],
    workload: workloads,
    fault,
    observeMs,
    dependencyFault: dependencyFault as boolean,
    expect,
    deadlines,
    budget: budgetParsed,
    budgetSpec,
    steadyMs,
    client: clientParsed,
    ...(mesh ? { mesh } : {}),
    ...(autoscale ? { autoscale } : {}),
    ...(typeof notUnderCpuHog === 'string' ? { notUnderCpuHog: notUnderCpuHog.trim() } : {}),
  };
}

/** Files named, or every *.yaml in a directory named. */
export function expandPaths(paths: string[]): string[] {
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length) throw new ScenarioError(missing.map((p) => `${p}: no such scenario file or directory`));
  return paths.flatMap((p) => (statSync(p).isDirectory() ? readdirSync(p).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(p, f)) : [p]));
}

/** Loads and validates every file; throws one ScenarioError listing every problem, before anything runs. */
export function loadScenarios(paths: string[]): Scenario[] {
  const problems: string[] = [];
  const out: Scenario[] = [];
  for (const file of paths) {
    let raw: unknown;
    try {
      raw = parse(readFileSync(file, 'utf8'));
    } catch (err) {
      problems.push(`${file}: not readable YAML: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    try {
      out.push(validateScenario(file, raw));
    } catch (err) {
      if (!(err instanceof ScenarioError)) throw err;
      problems.push(...err.problems);
    }
  }
  const names = out.map((s) => s.name);
  for (const n of names.filter((n, i) => names.indexOf(n) !== i)) problems.push(`name '${n}' is used by more than one scenario file`);
  if (problems.length) throw new ScenarioError(problems);
  return out;
}
