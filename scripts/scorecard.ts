/**
 * The serving scorecard of the seed report's table, measured on this machine: MLflow serving
 * and KServe side by side, straight to each server (no proxy in the path).
 *   node --import tsx scripts/scorecard.ts          → prints Markdown, writes reports/scorecard.json
 * Every attack is bounded in rate and time (vegeta -duration) and stops by itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { measureCapacity } from '../src/faults/overload.ts';
import { reportsDir, tool } from '../src/paths.ts';
import { KSERVE_MODEL_NAME } from '../src/targets/local/kserve-server.ts';
import { LocalStack } from '../src/targets/local/local-stack.ts';
import { groupMembers } from '../src/targets/local/proc.ts';
import type { ProcessName } from '../src/targets/stack.ts';

const STEP_SECONDS = 5;
const MAX_STEPS = 8;
const LATENCY_SECONDS = 10;
const STABLE_P99_MS = 1_000;

interface VegetaReport {
  latencies: { '50th': number; '99th': number };
  success: number;
  status_codes: Record<string, number>;
  throughput: number;
}

function attack(url: string, body: string, rate: number, seconds: number): VegetaReport {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-chaos-scorecard-'));
  try {
    writeFileSync(join(dir, 't.json'), `${JSON.stringify({ method: 'POST', url, body: Buffer.from(body).toString('base64'), header: { 'Content-Type': ['application/json'] } })}\n`);
    const a = spawnSync(tool('vegeta'), ['attack', '-format=json', `-targets=${join(dir, 't.json')}`, `-rate=${rate}/s`, `-duration=${seconds}s`, '-timeout=10s', '-max-workers=256', `-output=${join(dir, 'r.bin')}`], { timeout: (seconds + 30) * 1000 });
    if (a.status !== 0) throw new Error(`vegeta attack failed: ${a.stderr?.toString().slice(-300)}`);
    const r = spawnSync(tool('vegeta'), ['report', '-type=json', join(dir, 'r.bin')], { encoding: 'utf8' });
    return JSON.parse(r.stdout) as VegetaReport;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function rssMiB(stack: LocalStack, name: ProcessName): number {
  const p = stack.pids.find((x) => x.name === name);
  if (!p) return 0;
  let kib = 0;
  for (const m of groupMembers(p.pid, p.startTime)) kib += Number(readFileSync(`/proc/${m.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
  return Math.round(kib / 1024);
}

async function coldStartSeconds(stack: LocalStack, name: ProcessName): Promise<number> {
  const t = Date.now();
  await stack.process(name).restart();
  return (Date.now() - t) / 1000;
}

const stack = await LocalStack.start({ runId: 'scorecard' });
try {
  const g = stack.reference.golden;
  const servers = [
    { name: 'MLflow serving', process: 'mlflow-serving' as const, url: `http://${stack.edges['client->mlflow-serving'].upstream}/invocations`, body: JSON.stringify({ dataframe_split: { columns: g.columns, data: g.inputs } }) },
    { name: 'KServe (V1)', process: 'kserve' as const, url: `http://${stack.edges['client->kserve'].upstream}/v1/models/${KSERVE_MODEL_NAME}:predict`, body: JSON.stringify({ instances: g.inputs }) },
  ];
  const rows = [];
  for (const s of servers) {
    const cold = [await coldStartSeconds(stack, s.process), await coldStartSeconds(stack, s.process), await coldStartSeconds(stack, s.process)].sort((a, b) => a - b)[1]!;
    const closedLoop = await measureCapacity(s.url, s.body);
    let rate = Math.max(5, Math.round(closedLoop * 0.5));
    let stable = 0;
    for (let i = 0; i < MAX_STEPS; i++) {
      const r = attack(s.url, s.body, rate, STEP_SECONDS);
      const ok = r.success === 1 && r.latencies['99th'] / 1e6 < STABLE_P99_MS;
      process.stderr.write(`${s.name}: ${rate}/s → success ${(r.success * 100).toFixed(1)}%, p99 ${(r.latencies['99th'] / 1e6).toFixed(0)} ms${ok ? '' : ' (not stable)'}\n`);
      if (!ok) break;
      stable = rate;
      rate = Math.round(rate * 1.25);
    }
    const half = Math.max(1, Math.round(stable * 0.5));
    const lat = attack(s.url, s.body, half, LATENCY_SECONDS);
    rows.push({
      server: s.name,
      predictionsPerRequest: g.inputs.length,
      maxStableRps: stable,
      closedLoopRps: Math.round(closedLoop),
      coldStartSeconds: cold,
      rssMiB: rssMiB(stack, s.process),
      atHalfCapacity: { rps: half, p50Ms: +(lat.latencies['50th'] / 1e6).toFixed(1), p99Ms: +(lat.latencies['99th'] / 1e6).toFixed(1), success: lat.success },
    });
  }
  const out = {
    measuredAt: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30) },
    versions: stack.versions,
    rows,
  };
  mkdirSync(reportsDir, { recursive: true });
  writeFileSync(join(reportsDir, 'scorecard.json'), JSON.stringify(out, null, 2));
  const md = [
    `| server | max stable req/s (p99 < ${STABLE_P99_MS} ms, 100% ok) | cold start | memory (RSS) | p50 / p99 at half of max |`,
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.server} | ${r.maxStableRps} (${r.predictionsPerRequest} rows each) | ${r.coldStartSeconds.toFixed(1)} s | ${r.rssMiB} MiB | ${r.atHalfCapacity.p50Ms} / ${r.atHalfCapacity.p99Ms} ms at ${r.atHalfCapacity.rps}/s |`),
  ].join('\n');
  process.stdout.write(`${md}\n`);
} finally {
  await stack[Symbol.asyncDispose]();
}
