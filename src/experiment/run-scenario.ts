import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAllureScenario, type StepRecord } from '../report/allure.ts';
import { phaseTimes } from '../report/time-spent.ts';
import { repetitionLabel } from '../report/agreement.ts';
import { erroredResult, toResult, type ScenarioResult } from '../report/results.ts';
import { timelineSvg } from '../report/timeline-svg.ts';
import type { Scenario } from '../scenario/types.ts';
import type { LedgerReader } from '../ledger/ledger.ts';
import type { Stack } from '../targets/stack.ts';
import { progress } from '../util/progress.ts';
import { describeEntry, explain, type AccessLogEntry } from '../mesh/access-log.ts';
import { startMesh, type ActiveMesh, type MeshReport } from '../mesh/mesh.ts';
import { prepareFault } from '../faults/index.ts';
import { summarizeAutoscale, type AutoscaleReport } from '../report/autoscale.ts';
import type { ActiveAutoscaler } from '../targets/stack.ts';
import type { CapabilityVerdict } from '../verdict/types.ts';
import { runExperiment, type ExperimentResult } from './experiment.ts';
import { experimentSpec } from './from-scenario.ts';

/**
 * One scenario of a chaos run: its experiment with a progress line per phase, its timeline
 * (JSON and chart) and its Allure result. An experiment that errors is recorded with its reason,
 * every edge is put back, and the caller goes on with the next scenario.
 * `repeat` (1-based, only when a run repeats its scenarios) is recorded in the result and gives
 * the repetition its own directory, `scenarios/<name>.repeat-<k>`. `conditionLapse` says whether a
 * run condition (`--cpu-hog`) stopped holding during the experiment: then the experiment is errored.
 */
export async function runScenario(
  stack: Stack, s: Scenario, position: string, runDir: string,
  opts: { repeat?: number; conditionLapse?: () => string | undefined; ledgerReader?: LedgerReader } = {},
): Promise<ScenarioResult> {
  const { repeat } = opts;
  const log = progress(`${s.name} [${position}]`);
  const dir = join(runDir, 'scenarios', repeat === undefined ? s.name : `${s.name}.repeat-${repeat}`);
  const started = Date.now();
  const steps: StepRecord[] = [];
  const step = async <T>(name: string, body: () => Promise<T>): Promise<T> => {
    log(`${name}…`);
    const rec: StepRecord = { name, start: Date.now(), stop: 0 };
    steps.push(rec);
    try {
      const r = await body();
      log(`${name} done in ${((Date.now() - rec.start) / 1000).toFixed(1)}s`);
      return r;
    } catch (err) {
      rec.error = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      rec.stop = Date.now();
    }
  };
  let result: ScenarioResult;
  let mesh: ActiveMesh | undefined;
  let meshReport: MeshReport | undefined;
  let autoscaler: ActiveAutoscaler | undefined;
  let autoscaleReport: AutoscaleReport | undefined;
  try {
    if (s.mesh) {
      const spec = s.mesh;
      mesh = await step(`put sidecars on ${spec.edge}`, () => startMesh(stack, spec, log));
    }
    const espec = experimentSpec(s);
    if (s.autoscale) {
      const a = s.autoscale;
      const k = stack.kubernetes;
      if (!k) throw new Error(`autoscale needs a Kubernetes target; the ${stack.target} target has none`);
      // The fault's own preparation first (an overload's capacity search, kept for the stack): its
      // load would otherwise scale the component out before the window opens.
      const f = espec.fault;
      if (f && !('inject' in f)) await step(`prepare ${f.type} on ${f.target}`, () => prepareFault(stack, f));
      autoscaler = await step(`put ${a.component} under its autoscaler`, () => k.autoscale(a));
      log(autoscaler.note);
    }
    let r: ExperimentResult;
    try {
      r = await runExperiment(stack, espec, {
        step, log, logDir: dir, ...(opts.ledgerReader ? { ledgerReader: opts.ledgerReader } : {}),
        ...(mesh && s.mesh ? { endpoints: mesh.endpoints, meshLoad: s.mesh.load, mesh } : {}),
      });
    } finally {
      const m = mesh;
      if (m) meshReport = await step('remove the sidecars', () => m.stop());
    }
    const a = autoscaler;
    if (a && s.autoscale) {
      const samples = await step('take the autoscaler away', () => a.stop());
      autoscaleReport = summarizeAutoscale(s.autoscale, samples, a.initialPods, r.window);
      // Every look, for whoever wants to check the summary against them.
      writeFileSync(join(dir, 'autoscale.json'), JSON.stringify({ initialPods: a.initialPods, window: r.window, samples }, null, 1));
      log(`autoscaler: ${autoscaleReport.summary}`);
    }
    // The sidecars are stopped: their logs are read once, for the evidence and the timeline.
    const sidecarLog = mesh?.entries();
    if (sidecarLog) r = { ...r, verdicts: withSidecarEvidence(r.verdicts, sidecarLog) };
    writeFileSync(join(dir, 'timeline.json'), JSON.stringify({ window: r.window, events: r.timeline, ledger: r.ledger, ...(sidecarLog ? { sidecarLog } : {}) }, null, 1));
    writeFileSync(join(dir, 'timeline.svg'), timelineSvg(r));
    result = toResult(s, r, stack, Date.now() - started);
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    log(`errored: ${err.message}`);
    result = erroredResult(s, err.message, stack, Date.now() - started);
    await mesh?.stop().catch(() => undefined);
    await autoscaler?.stop().catch(() => undefined);
    await stack.toxiproxy.reset();
  }
  if (meshReport) result = { ...result, mesh: meshReport };
  if (autoscaleReport) result = { ...result, autoscale: autoscaleReport };
  if (repeat !== undefined) result = { ...result, repeat };
  result = { ...result, phases: phaseTimes(steps) };
  const lapse = opts.conditionLapse?.();
  if (lapse) {
    log(`errored: the run condition did not hold: ${lapse}`);
    result = { ...result, error: `the run condition did not hold: ${lapse}` };
  }
  writeAllureScenario(join(runDir, 'allure-results'), repetitionLabel(result), steps, { svg: join(dir, 'timeline.svg'), json: join(dir, 'timeline.json') });
  return result;
}

/**
 * Each piece of evidence about a failed request through the mesh gets the sidecar's own account of
 * it: the response flag and details Envoy logged (UC, UF, URX, …), which the client never sees.
 */
function withSidecarEvidence(verdicts: CapabilityVerdict[], entries: AccessLogEntry[]): CapabilityVerdict[] {
  return verdicts.map((v) => ({
    ...v,
    evidence: v.evidence.map((e) => {
      const entry = e.at === undefined ? undefined : explain(entries, e.at);
      return entry ? { ...e, detail: `${e.detail}; ${describeEntry(entry)}` } : e;
    }),
  }));
}
