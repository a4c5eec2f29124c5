import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot, toolsBin } from '../../src/paths.ts';

const workflow = join('.github', 'workflows', 'nightly.yml');
const actionlint = join(toolsBin, 'actionlint');

test.describe('the nightly workflow', () => {
  test('actionlint finds nothing in it', () => {
    // scripts/setup builds actionlint (Go module proxy), so a set-up machine and CI have it.
    test.skip(!existsSync(actionlint), `${actionlint} is missing: run scripts/setup, which builds it`);
    const r = spawnSync(actionlint, [workflow], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.status, `actionlint ${workflow}:\n${r.stdout}${r.stderr}`).toBe(0);
  });

  test('it runs nightly and on demand, compares with the previous night and keeps the reports', () => {
    const wf = parse(readFileSync(join(repoRoot, workflow), 'utf8')) as { on: Record<string, unknown>; jobs: Record<string, { steps: { run?: string; uses?: string }[] }> };
    expect(Object.keys(wf.on).sort(), 'triggers').toEqual(['schedule', 'workflow_dispatch']);
    // The kind target does not exist yet: one job, local target.
    expect(Object.keys(wf.jobs), 'jobs').toEqual(['chaos']);
    const steps = wf.jobs.chaos!.steps;
    const runs = steps.map((s) => s.run ?? '').join('\n');
    expect(runs, 'the chaos run').toContain('npm run chaos');
    expect(runs, 'the comparison').toContain('bin/mlops-chaos.js compare');
    expect(runs, 'the step summary').toContain('GITHUB_STEP_SUMMARY');
    expect(steps.map((s) => s.uses?.split('@')[0]), 'actions').toEqual(expect.arrayContaining(['actions/cache', 'actions/download-artifact', 'actions/upload-artifact']));
  });
});
