/**
 * The serving scorecard of the seed report's table, measured on this machine: MLflow serving
 * and KServe side by side, straight to each server (no proxy in the path).
 *   node --import tsx scripts/scorecard.ts          → prints Markdown, writes reports/scorecard.json
 * Every attack is bounded in rate and time (vegeta -duration) and stops by itself.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { searchCapacity } from '../src/faults/capacity.ts';
import { attackAndReport } from '../src/faults/vegeta.ts';
import { reportsDir } from '../src/paths.ts';
import { KSERVE_MODEL_NAME } from '../src/targets/local/kserve-server.ts';
import { LocalStack } from '../src/targets/local/local-stack.ts';
import { groupMembers } from '../src/targets/local/proc.ts';
import type { ProcessName } from '../src/targets/stack.ts';

const LATENCY_SECONDS = 10;

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
    // The same search the overload fault uses, straight to the server instead of through its edge.
    const capacity = await searchCapacity(s.url, s.body);
    for (const st of capacity.steps) process.stderr.write(`${s.name}: ${st.rate}/s → success ${(st.success * 100).toFixed(1)}%, p50 ${st.p50Ms} ms, p99 ${st.p99Ms} ms${st.stable ? '' : ' (not stable)'}\n`);
    const stable = capacity.rate;
    const half = Math.max(1, Math.round(stable * 0.5));
    const lat = await attackAndReport({ method: 'POST', url: s.url, body: s.body, rate: half, durationS: LATENCY_SECONDS });
    rows.push({
      server: s.name,
      predictionsPerRequest: g.inputs.length,
      maxStableRps: stable,
      closedLoopRps: capacity.closedLoop,
      how: capacity.how,
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
    `| server | max stable req/s (${rows[0]?.how ?? ''}) | cold start | memory (RSS) | p50 / p99 at half of max |`,
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.server} | ${r.maxStableRps} (${r.predictionsPerRequest} rows each) | ${r.coldStartSeconds.toFixed(1)} s | ${r.rssMiB} MiB | ${r.atHalfCapacity.p50Ms} / ${r.atHalfCapacity.p99Ms} ms at ${r.atHalfCapacity.rps}/s |`),
  ].join('\n');
  process.stdout.write(`${md}\n`);
} finally {
  await stack[Symbol.asyncDispose]();
}
