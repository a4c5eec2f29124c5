import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { experimentBoundMs, requireStressNg, runBoundMs, startCpuHog, type CpuHog } from './conditions/cpu-hog.ts';
import { reportsDir, repoRoot } from './paths.ts';
import { runScenario } from './experiment/run-scenario.ts';
import { mlflowLedgerReader } from './ledger/mlflow-reader.ts';
import { agreement, agreementMarkdown, agreementSummary, flipFailures, repetitionLabel } from './report/agreement.ts';
import { generateAllureReport } from './report/allure.ts';
import { compare, compareSummary, loadRun, regressions, ResultsInputError, writeComparison } from './report/compare.ts';
import { timeSpentSummary } from './report/time-spent.ts';
import { distinctLabels, history, historyMarkdown, historySummary } from './report/history.ts';
import { junitXml, matrixHtml, matrixMarkdown } from './report/matrix.ts';
import { formatVerdicts } from './report/print.ts';
import { failsRun, type ScenarioResult } from './report/results.ts';
import { expandPaths, loadScenarios, ScenarioError } from './scenario/load.ts';
import { scenarioTargets } from './scenario/targets.ts';
import { runIdOf } from './targets/local/context.ts';
import type { Scenario } from './scenario/types.ts';
import { describeReaped, isRunnableTarget, reapAll, RUNNABLE_TARGETS, startStack, type RunnableTarget, type StartedStack } from './targets/index.ts';
import { progress } from './util/progress.ts';
import type { VenvOverrides } from './targets/venv-overrides.ts';
import { parseUpgradeArgs, UpgradeUsageError } from './upgrade/args.ts';
import { runUpgrade } from './upgrade/run-upgrade.ts';
import { VenvBuildFailed } from './upgrade/build-venv.ts';
import { VersionNotFound } from './upgrade/pypi.ts';

const MAX_REPEAT = 20;

const USAGE = `usage:
  mlops-chaos run FILE|DIR… [--results out.json] [--target T] [--repeat N] [--cpu-hog]
                                        run scenario files on a stack; print verdicts;
                                        exit 1 on a new silent verdict or another mismatch
  mlops-chaos chaos [NAME…] [--target T] [--repeat N] [--cpu-hog]
                                        run scenarios/ (or only the named scenarios)
    --target local|docker|kind          where the stack runs: local processes (the default),
                                        containers (needs a Docker engine: scripts/docker-engine;
                                        images are built on first use: npm run images) or a kind
                                        cluster made for the run and deleted after it (its node
                                        image and KServe: npm run images -- kind)
    --images built|upstream             docker only: the image factory's images (default) or the
                                        upstream ones of images/upstream.json (must be present)
    --repeat N                          run each scenario N times in a row (1..${MAX_REPEAT}) on the same
                                        stack; agreement.md says per cell whether the verdicts
                                        agree; a verdict that flips fails the run
    --cpu-hog                           keep one core busy for the whole run (stress-ng --cpu 1)
  mlops-chaos compare OLD NEW [--out DIR]
                                        compare two runs (results.json files or run directories)
                                        cell by cell; writes compare.md|html|json into DIR (default:
                                        NEW's directory); exit 1 on a regression (a silent or
                                        unobserved verdict OLD never gave)
  mlops-chaos upgrade COMPONENT FROM TO [NAME…] [--cpu-hog]
                                        COMPONENT: mlflow (tracking and scoring server),
                                        mlflow-client, kserve or kfp. Installs each version in its
                                        own cached venv (.venvs/COMPONENT-VERSION), runs the same
                                        scenarios (NAME…, or the component's default set) on two
                                        local stacks that differ only there, writes
                                        reports/<run>/from-FROM/, to-TO/ and compare.md|html|json;
                                        exit 1 on a regression, 2 on a version that does not exist
  mlops-chaos history RUN… [--out DIR]  per cell, how often the verdict flipped from run to run
                                        (oldest run first); writes history.md (default: the last
                                        run's directory)
  mlops-chaos stack up [--foreground] [--target T]
                                        start a stack; print endpoints and edges. Without
                                        --foreground (local and kind) it keeps running until
                                        'stack down'; with it, it runs until Ctrl-C, then tears down.
  mlops-chaos stack down                stop every kept stack (and kept kind cluster) and reap what
                                        crashed runs left
  mlops-chaos cluster up [--keep] [--name mlops-chaos-…]
                                        a kind cluster (one control plane, one worker) from
                                        kind-config/ and the node image 'npm run images -- kind'
                                        built; prints its kubeconfig; Ctrl-C deletes it, or with
                                        --keep it stays until 'stack down'
  mlops-chaos reap                      reap what crashed runs left (processes, toxics, temp dirs,
                                        labelled containers, networks and volumes)
`;

function printStack(stack: StartedStack): void {
  const lines = [
    `stack ${stack.id} (${stack.target}) ready; work dir ${stack.workDir}`,
    'endpoints (clients go through their edges):',
    ...Object.entries(stack.endpoints).map(([k, v]) => `  ${k.padEnd(14)} ${v}`),
    'edges (Toxiproxy proxies; a fault acts here):',
    ...Object.values(stack.edges).map((e) => `  ${e.name.padEnd(24)} ${e.listen} -> ${e.upstream}  (proxy ${e.proxy})`),
    `toxiproxy API  ${stack.toxiproxy.apiUrl}`,
    'processes:',
    ...stack.pids.map((p) => `  ${p.name.padEnd(16)} pid ${p.pid}`),
    `reference model ${stack.reference.modelUri} (v${stack.reference.version}) at ${stack.reference.s3Uri}`,
    `versions ${Object.entries(stack.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function stackUp(foreground: boolean, target: RunnableTarget): Promise<number> {
  if (target === 'docker' && !foreground) throw new UsageError("'stack up' keeps only a local or kind stack running; a docker stack runs with --foreground until Ctrl-C");
  const stack = target === 'local' ? await (await import('./targets/local/local-stack.ts')).LocalStack.start({ keep: !foreground }) : await startStack(target, foreground ? {} : { keep: true });
  printStack(stack);
  if (!foreground) {
    process.stdout.write(`kept running${target === 'kind' ? ' (the cluster with it)' : ''}; stop it with 'npm run stack:down'\n`);
    return 0;
  }
  process.stdout.write('running; Ctrl-C stops it\n');
  // Signal listeners do not keep Node running, and a container stack has no child process that would.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(keepAlive);
  await stack[Symbol.asyncDispose]();
  return 0;
}

async function reap(includeKept: boolean): Promise<number> {
  const reaped = await reapAll({ includeKept });
  for (const r of reaped) process.stdout.write(`${describeReaped(r)}\n`);
  if (reaped.length === 0) process.stdout.write('nothing to reap\n');
  return 0;
}

/** Bad command-line usage (not scenario input): exit 2, nothing started. */
class UsageError extends Error {}

interface RunOptions {
  resultsFile?: string;
  names?: string[];
  /** Each scenario this many times in a row (1 = the plain run, no `repeat` in the results). */
  repeat?: number;
  cpuHog?: boolean;
  target?: RunnableTarget;
  images?: 'built' | 'upstream';
  /** An upgrade run's side: per-role venvs on the stack, and the upgrade's run id. */
  venvs?: VenvOverrides;
  runId?: string;
}

/**
 * Ctrl-C or a SIGTERM (a CI job cancelled) during a run: exit at once, which fires the exit hooks
 * that SIGKILL every process this run started (the stack's, the CPU hog). Without a handler Node
 * dies without running them. Temp dirs and faults recorded on disk go at the next run's reap,
 * which says what it removed.
 */
function stopOnSignal(): void {
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(sig, () => {
      process.stderr.write(`mlops-chaos: ${sig}: stopping every process this run started; the next run (or 'mlops-chaos reap') removes what is left and says so\n`);
      process.exit(code);
    });
  }
}

async function run(paths: string[], opts: RunOptions = {}): Promise<number> {
  const { resultsFile, names = [], repeat = 1 } = opts;
  // Everything is validated before anything starts or is injected.
  let scenarios = loadScenarios(expandPaths(paths));
  if (names.length) {
    const unknown = names.filter((n) => !scenarios.some((s) => s.name === n));
    if (unknown.length) throw new ScenarioError(unknown.map((n) => `no scenario named '${n}'; known: ${scenarios.map((s) => s.name).join(', ')}`));
    scenarios = scenarios.filter((s) => names.includes(s.name));
  }
  // A fault that exists only on some targets (a container's memory limit), or a mesh: named, it is
  // an error before anything starts; in a whole directory, it is skipped on this target and said so.
  const target = opts.target ?? 'local';
  const elsewhere = scenarios.filter((s) => { const t = scenarioTargets(s); return t && !t.targets.includes(target); });
  const where = (s: Scenario) => scenarioTargets(s)!;
  if (elsewhere.length && names.length) throw new ScenarioError(elsewhere.map((s) => `${s.name}: ${where(s).because} runs on ${where(s).targets.join(', ')} only; add --target ${where(s).targets[0]}`));
  if (elsewhere.length) process.stdout.write(`not run on ${target} (they need another target): ${elsewhere.map((s) => `${s.name} (${where(s).targets.join(', ')})`).join(', ')}\n`);
  scenarios = scenarios.filter((s) => !elsewhere.includes(s));
  if (opts.cpuHog) {
    requireStressNg();
    const timing = scenarios.filter((s) => s.notUnderCpuHog);
    if (timing.length && names.length) throw new ScenarioError(timing.map((s) => `${s.name}: not run under --cpu-hog: ${s.notUnderCpuHog}`));
    for (const s of timing) process.stdout.write(`not run under --cpu-hog: ${s.name}: ${s.notUnderCpuHog}\n`);
    scenarios = scenarios.filter((s) => !timing.includes(s));
  }
  stopOnSignal();
  const runId = runIdOf(opts.runId);
  const runDir = join(reportsDir, runId);
  const out = resultsFile ?? join(runDir, 'results.json');
  const results: ScenarioResult[] = [];
  // One entry per experiment (scenario × repetition), in the order they run, with its time bound.
  const plan = scenarios.flatMap((s, i) => Array.from({ length: repeat }, (_, k) => ({ s, i, k: k + 1, boundMs: experimentBoundMs(s) })));

  let hog: CpuHog | undefined;
  if (opts.cpuHog) {
    // A SIGKILLed run's hog would keep the other core busy too: reap it (and anything else a crashed run left) first.
    const reapLog = progress('reap');
    for (const r of await reapAll()) reapLog(describeReaped(r));
    hog = await startCpuHog({ boundMs: runBoundMs(plan.map((p) => p.boundMs)), logFile: join(runDir, 'logs', 'cpu-hog.log') });
  }
  let versions: Record<string, string> = {};
  try {
    const stack = await startStack(opts.target ?? 'local', { runId, ...(opts.images ? { images: opts.images } : {}), ...(opts.venvs ? { venvs: opts.venvs } : {}) });
    versions = stack.versions;
    // One ledger client for every experiment on this stack: its Python start-up is paid once.
    mkdirSync(join(runDir, 'logs'), { recursive: true });
    const ledgerReader = mlflowLedgerReader(stack.endpoints.mlflowDirect, join(runDir, 'logs'), stack.clientEnv);
    try {
      for (const [j, { s, i, k, boundMs }] of plan.entries()) {
        await hog?.hold(boundMs, plan.slice(j).reduce((a, p) => a + p.boundMs, 0));
        const position = repeat > 1 ? `${i + 1}/${scenarios.length}, repetition ${k}/${repeat}` : `${i + 1}/${scenarios.length}`;
        const result = await runScenario(stack, s, position, dirname(out), { ledgerReader, ...(repeat > 1 ? { repeat: k } : {}), ...(hog ? { conditionLapse: () => hog.lapse() } : {}) });
        results.push(result);
        process.stdout.write(`${formatVerdicts(repetitionLabel(result))}\n`);
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, JSON.stringify(results, null, 2));
      }
    } finally {
      await ledgerReader[Symbol.asyncDispose]();
      await stack[Symbol.asyncDispose]();
    }
  } finally {
    await hog?.[Symbol.asyncDispose]();
  }
  const time = timeSpentSummary(results);
  const meta = { date: new Date().toISOString(), versions, time, ...(hog ? { condition: hog.describe } : {}) };
  // One row (JUnit testcase) per repetition: `name #2`.
  const rows = results.map(repetitionLabel);
  writeFileSync(join(dirname(out), 'matrix.md'), matrixMarkdown(rows, meta));
  writeFileSync(join(dirname(out), 'matrix.html'), matrixHtml(rows, meta));
  writeFileSync(join(dirname(out), 'junit.xml'), junitXml(rows));
  const allureLog = progress('allure');
  allureLog('generating the HTML report…');
  try {
    await generateAllureReport(join(dirname(out), 'allure-results'), join(dirname(out), 'allure-report'));
    allureLog(`report in ${join(dirname(out), 'allure-report', 'index.html')}`);
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    // The verdicts stand on their own (results.json, matrix, JUnit); a missing report is said, loudly.
    allureLog(`the HTML report could not be generated: ${err.message}`);
  }
  const failing = rows.flatMap((r) => (r.error ? [`${r.scenario}: the experiment errored: ${r.error}`] : []));
  failing.push(...rows.flatMap((r) => r.verdicts.filter((v) => failsRun(v.judgement)).map((v) => `${r.scenario}/${v.capability}: ${v.verdict} (expected ${v.expected ?? 'not silent'})`)));
  failing.push(...rows.flatMap((r) => (r.autoscale?.asExpected === false ? [`${r.scenario}/autoscale: the added replica ${r.autoscale.outcome} (expected ${r.autoscale.expected})`] : [])));
  if (repeat > 1) {
    const agreed = agreement(results);
    const file = join(dirname(out), 'agreement.md');
    writeFileSync(file, agreementMarkdown(agreed, meta));
    process.stdout.write(`${agreementSummary(agreed, file)}\n`);
    failing.push(...flipFailures(agreed));
  }
  process.stdout.write(`${time}\n`);
  process.stdout.write(`results: ${out}\n`);
  if (failing.length) process.stdout.write(`what fails this run:\n${failing.map((f) => `  ${f}`).join('\n')}\n`);
  return failing.length ? 1 : 0;
}

/** `compare OLD NEW [--out DIR]`: exit 1 on a regression. */
function compareRuns(args: string[]): number {
  const { value: out, rest } = option(args, '--out', 'a directory');
  if (rest.length !== 2 || rest.some((a) => a.startsWith('--'))) throw new UsageError(`compare needs OLD and NEW (results.json files or run directories) and at most --out DIR; got: ${rest.join(' ') || 'nothing'}`);
  const [oldRun, newRun] = [loadRun(rest[0]!), loadRun(rest[1]!)];
  const c = compare(oldRun, newRun);
  const files = writeComparison(c, out ?? newRun.dir);
  process.stdout.write(`${compareSummary(c, files)}\n`);
  return regressions(c).length ? 1 : 0;
}

/** `history RUN… [--out DIR]`: reports, never fails on a flip (the nightly run's own verdicts do). */
function historyOfRuns(args: string[]): number {
  const { value: out, rest } = option(args, '--out', 'a directory');
  if (rest.length < 2 || rest.some((a) => a.startsWith('--'))) throw new UsageError(`history needs at least two runs (results.json files or run directories), oldest first, and at most --out DIR; got: ${rest.join(' ') || 'nothing'}`);
  const runs = distinctLabels(rest.map(loadRun));
  const labels = runs.map((r) => r.label);
  const cells = history(runs);
  const dir = out ?? runs.at(-1)!.dir;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'history.md');
  writeFileSync(file, historyMarkdown(cells, labels));
  process.stdout.write(`${historySummary(cells, labels, file)}\n`);
  return 0;
}

/** Takes `name VALUE` out of args. */
function option(args: string[], name: string, what: string): { value: string | undefined; rest: string[] } {
  const i = args.indexOf(name);
  if (i < 0) return { value: undefined, rest: args };
  const value = args[i + 1];
  if (!value || value.startsWith('--')) throw new UsageError(`${name} needs ${what}`);
  return { value, rest: [...args.slice(0, i), ...args.slice(i + 2)] };
}

/** The options `run` and `chaos` share; what is left are files (run) or names (chaos). */
function runOptions(args: string[]): { opts: RunOptions; rest: string[] } {
  const repeatWhat = `a whole number from 1 to ${MAX_REPEAT} (how many times each scenario runs)`;
  const { value: repeatText, rest: afterRepeat } = option(args, '--repeat', repeatWhat);
  let repeat = 1;
  if (repeatText !== undefined) {
    repeat = /^\d+$/.test(repeatText) ? Number(repeatText) : NaN;
    if (!(repeat >= 1 && repeat <= MAX_REPEAT)) throw new UsageError(`--repeat needs ${repeatWhat}; got '${repeatText}'`);
  }
  const { value: targetText, rest: afterTarget } = option(afterRepeat, '--target', `one of ${RUNNABLE_TARGETS.join(', ')}`);
  if (targetText !== undefined && !isRunnableTarget(targetText)) throw new UsageError(`--target must be one of ${RUNNABLE_TARGETS.join(', ')}; got '${targetText}'`);
  const { value: imagesText, rest: afterImages } = option(afterTarget, '--images', 'built or upstream');
  if (imagesText !== undefined && imagesText !== 'built' && imagesText !== 'upstream') throw new UsageError(`--images must be 'built' (the image factory's, the default) or 'upstream' (what a registry would give); got '${imagesText}'`);
  if (imagesText !== undefined && targetText !== 'docker') throw new UsageError("--images applies to the docker target only (add '--target docker')");
  const cpuHog = afterImages.includes('--cpu-hog');
  const rest = afterImages.filter((a) => a !== '--cpu-hog');
  const unknown = rest.filter((a) => a.startsWith('--') && a !== '--results');
  if (unknown.length) throw new UsageError(`unknown option ${unknown.join(', ')}; see 'mlops-chaos' for usage`);
  return { opts: { repeat, cpuHog, ...(targetText ? { target: targetText } : {}), ...(imagesText ? { images: imagesText } : {}) }, rest };
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  try {
    if (cmd === 'stack' && sub === 'up') {
      const { value: t, rest: others } = option(rest, '--target', `one of ${RUNNABLE_TARGETS.join(', ')}`);
      if (t !== undefined && !isRunnableTarget(t)) throw new UsageError(`--target must be one of ${RUNNABLE_TARGETS.join(', ')}; got '${t}'`);
      return await stackUp(others.includes('--foreground'), t ?? 'local');
    }
    if (cmd === 'stack' && sub === 'down') return await reap(true);
    if (cmd === 'cluster' && sub === 'up') {
      const { clusterUp } = await import('./kind/cluster-command.ts');
      return await clusterUp(rest, (m) => new UsageError(m));
    }
    if (cmd === 'reap') return await reap(false);
    if (cmd === 'compare') return compareRuns([sub, ...rest].filter((a): a is string => a !== undefined));
    if (cmd === 'upgrade') {
      const plan = parseUpgradeArgs([sub, ...rest].filter((a): a is string => a !== undefined));
      return await runUpgrade(plan, ({ names, resultsFile, venvs, runId }) => run([join(repoRoot, 'scenarios')], { names, resultsFile, venvs, runId, cpuHog: plan.cpuHog }));
    }
    if (cmd === 'history') return historyOfRuns([sub, ...rest].filter((a): a is string => a !== undefined));
    if (cmd === 'run') {
      const { opts, rest: args } = runOptions([sub, ...rest].filter((a): a is string => a !== undefined));
      const { value, rest: files } = option(args, '--results', 'a file path');
      if (files.length === 0) throw new ScenarioError(['run needs at least one scenario file or directory']);
      return await run(files, { ...opts, resultsFile: value });
    }
    if (cmd === 'chaos') {
      const { opts, rest: names } = runOptions([sub, ...rest].filter((a): a is string => a !== undefined));
      if (names.includes('--results')) throw new UsageError("--results is an option of 'run'; 'chaos' writes reports/<run>/results.json");
      return await run([join(repoRoot, 'scenarios')], { ...opts, names });
    }
    process.stderr.write(USAGE);
    return 2;
  } catch (err) {
    process.stderr.write(`mlops-chaos: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof ScenarioError || err instanceof UsageError || err instanceof ResultsInputError || err instanceof UpgradeUsageError || err instanceof VersionNotFound || err instanceof VenvBuildFailed ? 2 : 1;
  }
}
