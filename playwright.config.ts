import { defineConfig } from '@playwright/test';

// One id per invocation, inherited by the workers: logs and results land in reports/<runId>/.
process.env.MLOPS_CHAOS_RUN_ID ??= new Date().toISOString().replace(/[:.]/g, '-');
const runDir = `reports/${process.env.MLOPS_CHAOS_RUN_ID}`;

export default defineConfig({
  // One stack per worker; 2 cores hold one stack at a time.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 300_000,
  globalTimeout: 80 * 60_000,
  outputDir: `${runDir}/test-results`,
  reporter: [['list'], ['junit', { outputFile: `${runDir}/junit.xml` }], ['json', { outputFile: `${runDir}/tests.json` }], ['allure-playwright', { resultsDir: `${runDir}/allure-results` }], ['./tests/summary-reporter.ts']],
  use: {
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    },
  },
  projects: [
    { name: 'unit', testDir: 'tests/unit' },
    { name: 'local', testDir: 'tests/integration', metadata: { target: 'local' } },
    // Not in `npm test` (it needs a Docker engine): `npm run test:docker`; .ci/run runs it when an engine answers.
    { name: 'docker', testDir: 'tests/docker', metadata: { target: 'docker' } },
    // Needs the kind node image (npm run images -- kind): `npm run test:kind`; .ci/run runs it when the image is built.
    { name: 'kind', testDir: 'tests/kind', metadata: { target: 'kind' } },
  ],
});
