/**
 * Measures the local stack on this machine: warm start time (tools installed) and the peak
 * resident memory of all its processes while it starts and serves. Prints one JSON object.
 *   node --import tsx scripts/measure-stack.ts [--runs N]
 */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { LocalStack } from '../src/targets/local/local-stack.ts';
import { listRecords } from '../src/targets/local/registry.ts';
import { groupMembers } from '../src/targets/local/proc.ts';
import { predictKserveV1, predictMlflow } from '../src/workloads/predict.ts';

function rssKiB(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Sum of RSS over every process of every stack this process owns. */
function stackRssKiB(): number {
  let sum = 0;
  for (const rec of listRecords().filter((r) => r.owner.pid === process.pid)) {
    for (const p of rec.processes) for (const m of groupMembers(p.pid, p.startTime)) sum += rssKiB(m.pid);
  }
  return sum;
}

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1] || 1);
const starts: number[] = [];
let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, stackRssKiB())), 200);
for (let i = 0; i < runs; i++) {
  const t0 = Date.now();
  const stack = await LocalStack.start({ runId: 'measure' });
  starts.push((Date.now() - t0) / 1000);
  const g = stack.reference.golden;
  for (let j = 0; j < 50; j++) {
    await predictMlflow(stack.endpoints.mlflowServing, g.columns, g.inputs);
    await predictKserveV1(stack.endpoints.kserve, g.inputs);
  }
  await stack[Symbol.asyncDispose]();
}
clearInterval(sampler);
process.stdout.write(
  `${JSON.stringify({
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30) },
    warmStartSeconds: starts,
    peakStackRssMiB: Math.round(peak / 1024),
  })}\n`,
);
