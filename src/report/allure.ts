import { createHash, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../paths.ts';
import { timeouts } from '../timeouts.ts';
import { runToCompletion } from '../util/run-to-completion.ts';
import type { ScenarioResult, VerdictEntry } from './results.ts';

/** One phase of an experiment as it ran: what `test.step` is in the Playwright runs. */
export interface StepRecord {
  name: string;
  start: number;
  stop: number;
  error?: string;
}

type Status = 'passed' | 'failed' | 'broken';

interface Attachment {
  name: string;
  source: string;
  type: string;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/**
 * Writes a finished scenario as Allure results (the allure-js result format): one test per
 * capability cell with the experiment's steps, the timeline chart and JSON, and the evidence.
 * Written as each scenario finishes, so a run that dies midway still leaves what it judged.
 */
export function writeAllureScenario(dir: string, r: ScenarioResult, steps: StepRecord[], files: { svg?: string; json?: string }): void {
  mkdirSync(dir, { recursive: true });
  const attach = (name: string, type: string, ext: string, from?: string, body?: string): Attachment | undefined => {
    const source = `${randomUUID()}-attachment.${ext}`;
    if (from && existsSync(from)) copyFileSync(from, join(dir, source));
    else if (body !== undefined) writeFileSync(join(dir, source), body);
    else return undefined;
    return { name, source, type };
  };
  const shared = [attach('timeline chart', 'image/svg+xml', 'svg', files.svg), attach('timeline.json', 'application/json', 'json', files.json)].filter((a): a is Attachment => a !== undefined);
  const start = steps[0]?.start ?? Date.now() - r.durationMs;
  const stop = steps.at(-1)?.stop ?? Date.now();
  const alSteps = steps.map((s) => ({
    name: s.name, status: s.error ? 'broken' : 'passed', stage: 'finished', start: s.start, stop: s.stop,
    ...(s.error ? { statusDetails: { message: s.error } } : {}), steps: [], attachments: [], parameters: [],
  }));
  const fault = r.fault ? `${r.fault.type} on ${r.fault.edge ?? r.fault.process}${r.fault.note ? ` (${r.fault.note})` : ''}` : 'none';
  const common = (name: string, extraLabels: { name: string; value: string }[]) => ({
    uuid: randomUUID(), historyId: md5(`${r.scenario}/${name}`), testCaseId: md5(`${r.scenario}/${name}`), fullName: `mlops-chaos › ${r.scenario} › ${name}`,
    name: `${r.scenario} › ${name}`, stage: 'finished', start, stop, steps: alSteps,
    labels: [{ name: 'parentSuite', value: 'mlops-chaos matrix' }, { name: 'suite', value: r.scenario }, { name: 'host', value: 'local' }, ...extraLabels],
    parameters: [{ name: 'fault', value: fault }, { name: 'client', value: JSON.stringify(r.client) }],
  });
  const tests = r.error
    ? [{ ...common('experiment', []), status: 'broken' as Status, statusDetails: { message: `the experiment errored: ${r.error}` }, attachments: shared, links: [], description: `Scenario file \`${r.file}\`. No verdicts: the experiment could not run.` }]
    : r.verdicts.map((v) => ({
        ...common(v.capability, [{ name: 'feature', value: v.platform }, { name: 'story', value: v.capability }, { name: 'tag', value: v.verdict }, ...(v.known ? [{ name: 'tag', value: 'known upstream' }] : [])]),
        status: statusOf(v),
        statusDetails: { message: `${v.verdict}${v.expected ? ` (expected ${v.expected})` : ''}, TTD ${ms(v.ttdMs)}, TTR ${ms(v.ttrMs)}`, trace: evidenceText(v) },
        links: v.known ? [{ name: v.known.replace(/^https?:\/\/github\.com\//, ''), url: v.known, type: 'issue' }] : [],
        description: `Scenario file \`${r.file}\`, fault ${fault}. Verdict **${v.verdict}** (${v.judgement}). In the window: ${v.stats.opsInWindow} ops (at least ${v.stats.minOpsInWindow} needed to judge), ${v.stats.errorsInWindow} failed, p95 ${v.stats.p95MsInWindow ?? '–'} ms against a budget of ${v.stats.p95BudgetMs} ms (${v.stats.p95Basis}).`,
        attachments: [...shared, attach('evidence', 'text/plain', 'txt', undefined, evidenceText(v))!],
      }));
  for (const t of tests) writeFileSync(join(dir, `${t.uuid}-result.json`), JSON.stringify(t));
}

/** A cell fails in the report exactly when it fails the run; a known silent one passes, linked to its issue. */
function statusOf(v: VerdictEntry): Status {
  return v.judgement === 'new-silent' || v.judgement === 'mismatch' ? 'failed' : 'passed';
}

const ms = (x: number | null) => (x === null ? '–' : `${x} ms`);

function evidenceText(v: VerdictEntry): string {
  return v.evidence.length ? v.evidence.map((e) => `${e.rule}${e.op ? ` [${e.op}]` : ''}: ${e.detail}`).join('\n') : 'no evidence: the capability kept its steady state';
}

/** Builds the HTML report with Allure 3 (pure Node, from node_modules); bounded in time. */
export async function generateAllureReport(resultsDir: string, outDir: string): Promise<void> {
  const cli = join(repoRoot, 'node_modules', 'allure', 'cli.js');
  const r = await runToCompletion(process.execPath, [cli, 'generate', resultsDir, '--output', outDir, '--report-name', 'mlops-chaos matrix'], {
    env: process.env, deadlineMs: timeouts.allureReport, what: 'allure generate to finish',
  });
  if (r.code !== 0) throw new Error(`allure generate exited ${r.code}: ${`${r.stdout}${r.stderr}`.trim().split('\n').slice(-5).join(' / ')}`);
}
