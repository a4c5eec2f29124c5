import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

/**
 * Ends the run with the plain `N passed, N failed` line CI reads (Playwright's own summary is not
 * read), preceded by a `failed: …` line naming each failed test, so a log's tail says which.
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
      this.failedTitles.push(`${test.titlePath().filter(Boolean).join(' › ')} (line ${test.location.line}, ${result.status})`);
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
