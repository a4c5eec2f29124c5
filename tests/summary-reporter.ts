import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

/** ANSI colour codes, which Playwright's messages carry and a log file shows as noise. */
const ANSI = /\u001b\[[0-9;]*m/g;
const WHY_LINES = 8;
const WHY_CHARS = 600;

/** The first non-empty lines of a failed test's error, indented under its `failed:` line. */
function why(result: TestResult): string {
  const message = result.errors.map((e) => e.message ?? e.value ?? '').join('\n').replace(ANSI, '');
  const lines = message.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '').slice(0, WHY_LINES);
  return lines.map((l) => `\n    ${l.length > WHY_CHARS ? `${l.slice(0, WHY_CHARS)}…` : l}`).join('');
}

/**
 * Ends the run with the plain `N passed, N failed` line CI reads (Playwright's own summary is not
 * read), preceded by a `failed: …` line naming each failed test and the first lines of its error,
 * so a log's tail says which and why (a CI machine's reports are gone once it ends).
 */
export default class SummaryReporter implements Reporter {
  private passed = 0;
  private failed = 0;
  private skipped = 0;
  private readonly failedTitles: string[] = [];

  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.status === 'skipped') this.skipped++;
    // Count each test once, by its final outcome (retries are off, but stay correct if enabled).
    if (result.retry !== test.retries && result.status !== 'passed' && result.status !== 'skipped') return;
    if (result.status === 'skipped') return;
    if (test.outcome() === 'expected' || test.outcome() === 'flaky') this.passed++;
    else {
      this.failed++;
      this.failedTitles.push(`${test.titlePath().filter(Boolean).join(' › ')} (line ${test.location.line}, ${result.status})${why(result)}`);
    }
  }

  onEnd(result: FullResult): void {
    if (result.status === 'interrupted' || result.status === 'timedout') process.stdout.write(`run ${result.status}\n`);
    for (const t of this.failedTitles) process.stdout.write(`failed: ${t}\n`);
    process.stdout.write(`${this.passed} passed, ${this.failed} failed${this.skipped ? `, ${this.skipped} skipped` : ''}\n`);
  }

  printsToStdio(): boolean {
    return true;
  }
}
