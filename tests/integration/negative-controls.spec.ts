import { test, expect } from '../../fixtures/experiment.ts';
import { Middlebox, type Plant } from '../../fixtures/planted/middlebox.ts';
import type { ExperimentResult, ExperimentSpec } from '../../src/experiment/experiment.ts';
import type { PlantedSpec } from '../../src/faults/index.ts';
import type { StartedStack } from '../../src/targets/index.ts';
import type { SilentRule } from '../../src/verdict/types.ts';

/**
 * A check that cannot fail is a defect: for every rule that can say `silent`, a planted failure
 * on the real stack must make it fire, with that rule's evidence. And with nothing planted, the
 * same workloads must stay `resilient`.
 */

const base: Omit<ExperimentSpec, 'name' | 'workloads'> = {
  fault: null,
  dependencyFault: true,
  deadlines: { operationMs: 8_000, recoveryMs: 20_000, healthGraceMs: 3_000 },
  budget: { minSuccessRate: 0.99, maxP95Ms: 2_000 },
  steadyMs: 2_000,
  baselineMs: 6_000,
  client: { maxRetries: 0, backoffFactor: 0, timeoutSeconds: 5 },
  clientVenv: 'mlflow3',
};

/** A planted fault: while active, the middlebox in front of `edge`'s platform answers with `plant`. */
function planted(box: Middlebox, name: string, plant: Plant, durationMs = 6_000): PlantedSpec {
  return {
    type: `planted:${name}`,
    target: box.url,
    params: {},
    durationMs,
    inject: async () => {
      box.plant = plant;
      return { undo: async () => void (box.plant = undefined), persisted: { kind: 'none' } };
    },
  };
}

const isLogMetric = (r: { method: string; path: string }) => r.method === 'POST' && r.path.startsWith('/api/2.0/mlflow/runs/log-metric');

type RunExperiment = (s: ExperimentSpec, o?: { endpoints?: Record<string, string> }) => Promise<ExperimentResult>;

interface Control {
  rule: SilentRule;
  capability: string;
  how: string;
  /** `await using` boxes: the experiment must be awaited inside, or the box is gone before it runs. */
  run: (stack: StartedStack, experiment: RunExperiment) => Promise<ExperimentResult>;
}

const controls: Control[] = [
  {
    rule: 'lost-write',
    capability: 'mlflow.tracking',
    how: 'a middlebox in front of MLflow acknowledges log-metric with 200 and drops it',
    run: async (stack, experiment) => {
      await using box = await Middlebox.start(stack.endpoints.mlflow);
      const drop: Plant = async (r) => (isLogMetric(r) ? { status: 200, body: '{}', contentType: 'application/json' } : undefined);
      return await experiment({ ...base, name: 'control-lost-write', workloads: ['mlflow.training'], fault: planted(box, 'ack-and-drop', drop) }, { endpoints: { mlflow: box.url } });
    },
  },
  {
    rule: 'phantom-write',
    capability: 'mlflow.tracking',
    how: 'a middlebox in front of MLflow forwards log-metric, then tells the client it failed with a 500',
    run: async (stack, experiment) => {
      await using box = await Middlebox.start(stack.endpoints.mlflow);
      const lie: Plant = async (r, upstream) => {
        if (!isLogMetric(r)) return undefined;
        await upstream();
        return { status: 500, body: '{"error_code":"INTERNAL_ERROR","message":"transaction rolled back: lost connection to the database"}', contentType: 'application/json' };
      };
      return await experiment({ ...base, name: 'control-phantom-write', workloads: ['mlflow.training'], fault: planted(box, 'commit-then-fail', lie) }, { endpoints: { mlflow: box.url } });
    },
  },
  {
    rule: 'success-without-effect',
    capability: 'mlflow.serving',
    how: 'a middlebox in front of the scoring server answers 200 with wrong predictions',
    run: async (stack, experiment) => {
      await using box = await Middlebox.start(stack.endpoints.mlflowServing);
      const wrong: Plant = async (r, upstream) => {
        if (!r.path.startsWith('/invocations')) return undefined;
        const real = await upstream();
        const preds = (JSON.parse(real.body) as { predictions: number[] }).predictions.map((p) => 1 - p);
        return { ...real, body: JSON.stringify({ predictions: preds }) };
      };
      return await experiment({ ...base, name: 'control-wrong-answer', workloads: ['mlflow.serving'], fault: planted(box, 'wrong-prediction', wrong) }, { endpoints: { mlflowServing: box.url } });
    },
  },
  {
    rule: 'hang',
    capability: 'mlflow.tracking',
    how: 'a real outage on client->mlflow, and a client whose retries (10, backoff factor 2) outlast the op deadline',
    run: (_stack, experiment) =>
      experiment({ ...base, name: 'control-hang', workloads: ['mlflow.training'], client: { maxRetries: 10, backoffFactor: 2, timeoutSeconds: 10 }, fault: { type: 'outage', target: 'client->mlflow', params: {}, durationMs: 12_000 } }),
  },
  {
    rule: 'lying-health',
    capability: 'mlflow.serving',
    how: "a middlebox fails every prediction with a clear 503 while the scoring server's /ping stays 200",
    run: async (stack, experiment) => {
      await using box = await Middlebox.start(stack.endpoints.mlflowServing);
      const fail: Plant = async (r) => (r.path.startsWith('/invocations') ? { status: 503, body: '{"error_code":"TEMPORARILY_UNAVAILABLE","message":"model backend unavailable"}', contentType: 'application/json' } : undefined);
      return await experiment({ ...base, name: 'control-lying-health', workloads: ['mlflow.serving'], fault: planted(box, 'fail-behind-green-health', fail, 10_000) }, { endpoints: { mlflowServing: box.url } });
    },
  },
  {
    rule: 'opaque-error',
    capability: 'kserve.v1',
    how: 'a middlebox in front of KServe answers predictions with an empty 503',
    run: async (stack, experiment) => {
      await using box = await Middlebox.start(stack.endpoints.kserve);
      const empty: Plant = async (r) => (r.method === 'POST' ? { status: 503, body: '' } : undefined);
      return await experiment({ ...base, name: 'control-opaque', workloads: ['kserve.predict'], fault: planted(box, 'empty-503', empty) }, { endpoints: { kserve: box.url } });
    },
  },
  {
    rule: 'misattributed-error',
    capability: 'mlflow.tracking',
    how: "a middlebox answers a dependency fault with MLflow's own 400 BAD_REQUEST shape",
    run: async (stack, experiment) => {
      await using box = await Middlebox.start(stack.endpoints.mlflow);
      const blame: Plant = async (r) =>
        isLogMetric(r) ? { status: 400, body: '{"error_code":"BAD_REQUEST","message":"(sqlalchemy.exc.TimeoutError) QueuePool limit of size 5 overflow 10 reached"}', contentType: 'application/json' } : undefined;
      return await experiment({ ...base, name: 'control-misattributed', workloads: ['mlflow.training'], fault: planted(box, 'blame-the-client', blame) }, { endpoints: { mlflow: box.url } });
    },
  },
  {
    rule: 'no-recovery',
    capability: 'kserve.v1',
    how: 'KServe is SIGKILLed and the revert does not restart it',
    run: async (stack, experiment) => {
      try {
        const crash: PlantedSpec = {
          type: 'planted:kill-without-restart', target: 'kserve', params: {}, durationMs: 4_000,
          inject: async () => {
            await stack.process('kserve').signal('SIGKILL');
            return { undo: async () => undefined, persisted: { kind: 'none' } };
          },
        };
        return await experiment({ ...base, name: 'control-no-recovery', workloads: ['kserve.predict'], deadlines: { ...base.deadlines, recoveryMs: 5_000 }, fault: crash });
      } finally {
        await stack.process('kserve').restart(); // the next test needs it
      }
    },
  },
];

test.describe('negative controls: each silent rule fires on a planted failure', () => {
  for (const c of controls) {
    test(`${c.rule}: ${c.how}`, async ({ stack, experiment }) => {
      const r = await c.run(stack, experiment);
      const v = r.verdicts.find((x) => x.capability === c.capability);
      expect(v, `a verdict for ${c.capability}`).toBeDefined();
      expect(v!.verdict, `${c.capability} verdict; evidence: ${JSON.stringify(v!.evidence.slice(0, 3))}`).toBe('silent');
      expect(v!.evidence.map((e) => e.rule), `${c.rule} evidence present`).toContain(c.rule);
    });
  }

  test('unobserved: a fault window shorter than the probe\'s cadence is never judged resilient', async ({ experiment }) => {
    // A planted fault that does nothing for 150 ms, against tracking alone (a 25–60 ms call every
    // 500 ms): at most one op overlaps it, for well under half of it, so the fault was never met.
    const blink: PlantedSpec = { type: 'planted:blink', target: 'none', params: {}, durationMs: 150, inject: async () => ({ undo: async () => undefined, persisted: { kind: 'none' } }) };
    const r = await experiment({ ...base, name: 'control-unobserved', workloads: ['mlflow.metrics'], fault: blink });
    const v = r.verdicts.find((x) => x.capability === 'mlflow.tracking');
    expect(v, 'a verdict for mlflow.tracking').toBeDefined();
    expect(v!.verdict, `${v!.stats.opsInWindow} ops in the window; evidence: ${JSON.stringify(v!.evidence.slice(0, 2))}`).toBe('unobserved');
    expect(v!.evidence.map((e) => e.rule)).toContain('unobserved');
  });

  test('baseline: the same workloads with nothing planted stay resilient', async ({ experiment }) => {
    const r = await experiment({ ...base, name: 'control-baseline', workloads: ['mlflow.training', 'mlflow.registry', 'mlflow.serving', 'mlflow.health', 'kserve.predict'] });
    // Every capability that is not resilient, each with its figures and evidence, in one message:
    // a CI log keeps only the first lines of a failure, and a machine's reports go with it.
    const off = r.verdicts.filter((v) => v.verdict !== 'resilient').map((v) =>
      `${v.capability} ${v.verdict} (${v.stats.opsInWindow} ops, ${v.stats.errorsInWindow} failed, p95 ${v.stats.p95MsInWindow ?? '-'} ms): ${JSON.stringify(v.evidence.slice(0, 3))}`);
    expect(off.length, `not resilient with nothing planted:\n${off.join('\n')}`).toBe(0);
    expect(r.verdicts.map((v) => v.capability).sort()).toEqual(['kserve.v1', 'kserve.v2', 'mlflow.artifacts', 'mlflow.registry', 'mlflow.serving', 'mlflow.tracking']);
  });
});
