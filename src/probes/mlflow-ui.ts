import { chromium, type Browser } from '@playwright/test';
import { loop } from './loop.ts';
import type { Probe, ProbeContext } from './types.ts';

/** Debian's Chromium; nothing is downloaded. Flags keep it off the network it does not have. */
export const CHROMIUM = {
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
};

const ERROR_TEXT = /request failed|internal server error|temporarily_unavailable|service unavailable|something went wrong|error/i;

/**
 * A person opening the MLflow UI's experiment list in Chromium: `ok` when the list shows the
 * experiment, `error` when the page shows an error (its text is the message), `timeout` when
 * neither appears before the op deadline (an endless spinner).
 */
export class MlflowUiProbe implements Probe {
  readonly workload = 'mlflow.ui';
  readonly capabilities = ['mlflow.ui'];
  private browser: Browser | undefined;

  async run(ctx: ProbeContext): Promise<void> {
    this.browser = await chromium.launch(CHROMIUM);
    const browser = this.browser;
    await loop(ctx.signal, 2_000, async () => {
      const page = await browser.newPage();
      const start = Date.now();
      const base = { platform: 'mlflow' as const, capability: 'mlflow.ui', op: 'open experiment list' };
      try {
        await page.goto(`${ctx.endpoints.mlflow}/#/experiments`, { timeout: ctx.operationDeadlineMs, waitUntil: 'domcontentloaded' });
        // The reference model's experiment exists on every stack: the list is loaded when it shows.
        const listed = page.getByText('reference-model').first();
        const failed = page.locator('[role="alert"], .ant-notification-notice, .ant-alert-error').filter({ hasText: ERROR_TEXT }).first();
        const remaining = Math.max(1, ctx.operationDeadlineMs - (Date.now() - start));
        const which = await Promise.race([
          listed.waitFor({ state: 'visible', timeout: remaining }).then(() => 'ok' as const),
          failed.waitFor({ state: 'visible', timeout: remaining }).then(() => 'error' as const),
        ]).catch(() => 'timeout' as const);
        const message = which === 'error' ? ((await failed.textContent()) ?? '').trim().slice(0, 300) : which === 'timeout' ? `neither the experiment list nor an error within ${ctx.operationDeadlineMs} ms` : undefined;
        ctx.timeline.push({ ...base, start, end: Date.now(), outcome: which, message });
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        ctx.timeline.push({ ...base, start, end: Date.now(), outcome: err.name === 'TimeoutError' ? 'timeout' : 'error', message: err.message.split('\n')[0] });
      } finally {
        await page.close();
      }
    });
  }

  async finish(): Promise<void> {
    await this.browser?.close();
  }
}
