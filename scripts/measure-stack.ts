/**
 * Measures a stack on this machine: warm start time (tools and images present) and the peak
 * resident memory of all its components while it starts and serves. Prints one JSON object.
 *   node --import tsx scripts/measure-stack.ts [--runs N] [--target local|docker]
 * Local: the sum of VmRSS of every process of the stack. Docker: the sum of every container's
 * cgroup RSS (memory.stat `total_rss` on cgroup v1, `anon` on v2), the same quantity as seen by
 * the kernel's memory controller.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { isRunnableTarget, startStack } from '../src/targets/index.ts';
import { LABEL_STACK } from '../src/targets/docker/engine.ts';
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

/** Sum of RSS over every process of every local stack this process owns. */
function localRssKiB(): number {
  let sum = 0;
  for (const rec of listRecords().filter((r) => r.owner.pid === process.pid)) {
    for (const p of rec.processes) for (const m of groupMembers(p.pid, p.startTime)) sum += rssKiB(m.pid);
  }
  return sum;
}

/** Sum of cgroup RSS over every container of the docker stack `id`. */
function dockerRssKiB(id: string | undefined): number {
  if (!id) return 0;
  const ids = spawnSync('docker', ['ps', '-q', '--no-trunc', '--filter', `label=${LABEL_STACK}=${id}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  let sum = 0;
  for (const c of ids) {
    for (const [file, key] of [[`/sys/fs/cgroup/memory/docker/${c}/memory.stat`, 'total_rss'], [`/sys/fs/cgroup/system.slice/docker-${c}.scope/memory.stat`, 'anon']] as const) {
      try {
        const v = readFileSync(file, 'utf8').match(new RegExp(`^${key} (\\d+)$`, 'm'))?.[1];
        if (v) {
          sum += Number(v) / 1024;
          break;
        }
      } catch {
        // not this cgroup layout
      }
    }
  }
  return sum;
}

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const runs = Number(arg('--runs') ?? 1);
const target = arg('--target') ?? 'local';
if (!isRunnableTarget(target)) throw new Error(`--target must be local or docker; got '${target}'`);
const starts: number[] = [];
let peak = 0;
let dockerId: string | undefined;
const sampler = setInterval(() => (peak = Math.max(peak, target === 'docker' ? dockerRssKiB(dockerId) : localRssKiB())), 200);
for (let i = 0; i < runs; i++) {
  const t0 = Date.now();
  const stack = await startStack(target, { runId: 'measure' });
  starts.push((Date.now() - t0) / 1000);
  dockerId = stack.id;
  const g = stack.reference.golden;
  for (let j = 0; j < 50; j++) {
    await predictMlflow(stack.endpoints.mlflowServing, g.columns, g.inputs);
    await predictKserveV1(stack.endpoints.kserve, g.inputs);
  }
  peak = Math.max(peak, target === 'docker' ? dockerRssKiB(dockerId) : localRssKiB());
  await stack[Symbol.asyncDispose]();
}
clearInterval(sampler);
process.stdout.write(
  `${JSON.stringify({
    target,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30) },
    warmStartSeconds: starts,
    peakStackRssMiB: Math.round(peak / 1024),
  })}\n`,
);
