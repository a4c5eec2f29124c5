import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { reportsDir, repoRoot } from './paths.ts';
import { runScenario } from './experiment/run-scenario.ts';
import { generateAllureReport } from './report/allure.ts';
import { junitXml, matrixHtml, matrixMarkdown } from './report/matrix.ts';
import { formatVerdicts } from './report/print.ts';
import { failsRun, type ScenarioResult } from './report/results.ts';
import { expandPaths, loadScenarios, ScenarioError } from './scenario/load.ts';
import { LocalStack } from './targets/local/local-stack.ts';
import { describeReaped, reapStale } from './targets/local/reaper.ts';
import { progress } from './util/progress.ts';

const USAGE = `usage:
  mlops-chaos run FILE|DIR… [--results out.json]
                                        run scenario files on the local stack; print verdicts;
                                        exit 1 on a new silent verdict or another mismatch
  mlops-chaos chaos [NAME…]             run scenarios/ (or only the named scenarios)
  mlops-chaos stack up [--foreground]   start the local stack; print endpoints and edges.
                                        Without --foreground it keeps running until 'stack down';
                                        with it, it runs until Ctrl-C and then tears down.
  mlops-chaos stack down                stop every kept stack and reap what crashed runs left
  mlops-chaos reap                      reap what crashed runs left (processes, toxics, temp dirs)
`;

function printStack(stack: LocalStack): void {
  const lines = [
    `stack ${stack.id} (local) ready; work dir ${stack.workDir}`,
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

async function stackUp(foreground: boolean): Promise<number> {
  const stack = await LocalStack.start({ keep: !foreground });
  printStack(stack);
  if (!foreground) {
    process.stdout.write("kept running; stop it with 'npm run stack:down'\n");
    return 0;
  }
  process.stdout.write('running; Ctrl-C stops it\n');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await stack[Symbol.asyncDispose]();
  return 0;
}

async function reap(includeKept: boolean): Promise<number> {
  const reaped = await reapStale({ includeKept });
  for (const r of reaped) process.stdout.write(`${describeReaped(r)}\n`);
  if (reaped.length === 0) process.stdout.write('nothing to reap\n');
  return 0;
}

async function run(paths: string[], resultsFile: string | undefined, names: string[] = []): Promise<number> {
  // Everything is validated before anything starts or is injected.
  let scenarios = loadScenarios(expandPaths(paths));
  if (names.length) {
    const unknown = names.filter((n) => !scenarios.some((s) => s.name === n));
    if (unknown.length) throw new ScenarioError(unknown.map((n) => `no scenario named '${n}'; known: ${scenarios.map((s) => s.name).join(', ')}`));
    scenarios = scenarios.filter((s) => names.includes(s.name));
  }
  const runId = process.env.MLOPS_CHAOS_RUN_ID ?? new Date().toISOString().replace(/[:.]/g, '-');
  const runDir = join(reportsDir, runId);
  const out = resultsFile ?? join(runDir, 'results.json');
  const results: ScenarioResult[] = [];
  const stack = await LocalStack.start({ runId });
  try {
    for (const [i, s] of scenarios.entries()) {
      const result = await runScenario(stack, s, `${i + 1}/${scenarios.length}`, dirname(out));
      results.push(result);
      process.stdout.write(`${formatVerdicts(result)}\n`);
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, JSON.stringify(results, null, 2));
    }
  } finally {
    await stack[Symbol.asyncDispose]();
  }
  const meta = { date: new Date().toISOString(), versions: stack.versions };
  writeFileSync(join(dirname(out), 'matrix.md'), matrixMarkdown(results, meta));
  writeFileSync(join(dirname(out), 'matrix.html'), matrixHtml(results, meta));
  writeFileSync(join(dirname(out), 'junit.xml'), junitXml(results));
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
  const failing = results.flatMap((r) => (r.error ? [`${r.scenario}: the experiment errored: ${r.error}`] : []));
  failing.push(...results.flatMap((r) => r.verdicts.filter((v) => failsRun(v.judgement)).map((v) => `${r.scenario}/${v.capability}: ${v.verdict} (expected ${v.expected ?? 'not silent'})`)));
  process.stdout.write(`results: ${out}\n`);
  if (failing.length) process.stdout.write(`what fails this run:\n${failing.map((f) => `  ${f}`).join('\n')}\n`);
  return failing.length ? 1 : 0;
}

function option(args: string[], name: string): { value: string | undefined; rest: string[] } {
  const i = args.indexOf(name);
  if (i < 0) return { value: undefined, rest: args };
  const value = args[i + 1];
  if (!value || value.startsWith('--')) throw new ScenarioError([`${name} needs a file path`]);
  return { value, rest: [...args.slice(0, i), ...args.slice(i + 2)] };
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  try {
    if (cmd === 'stack' && sub === 'up') return await stackUp(rest.includes('--foreground'));
    if (cmd === 'stack' && sub === 'down') return await reap(true);
    if (cmd === 'reap') return await reap(false);
    if (cmd === 'run') {
      const { value, rest: files } = option([sub, ...rest].filter((a): a is string => a !== undefined), '--results');
      if (files.length === 0) throw new ScenarioError(['run needs at least one scenario file or directory']);
      return await run(files, value);
    }
    if (cmd === 'chaos') return await run([join(repoRoot, 'scenarios')], undefined, [sub, ...rest].filter((a): a is string => a !== undefined));
    process.stderr.write(USAGE);
    return 2;
  } catch (err) {
    process.stderr.write(`mlops-chaos: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof ScenarioError ? 2 : 1;
  }
}
