import type { AutoscaleSpec } from '../targets/stack.ts';

const FIELDS = ['component', 'maxReplicas', 'cpuRequest', 'cpuTarget', 'expect'];
/** Outcomes a scenario may expect of the added replica (report/autoscale.ts). */
const EXPECTABLE = ['serving', 'starved'] as const;
/** The components whose platform makes an autoscaler for them: KServe's InferenceService. */
export const AUTOSCALED = ['kserve'] as const;
// Every replica shares this machine's two cores: more than four only crowds them.
const MAX_REPLICAS = 4;

/**
 * The `autoscale` section of a scenario: the component under a HorizontalPodAutoscaler on CPU for
 * the whole scenario.
 *   autoscale: { component: kserve, maxReplicas: 2, cpuRequest: 500m, cpuTarget: 50, expect: serving }
 * Each problem is passed to `bad` with the field it is about; undefined when there is none.
 */
export function parseAutoscale(raw: unknown, bad: (field: string, why: string) => void): AutoscaleSpec | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    bad('autoscale', 'must be a mapping: { component: kserve, maxReplicas: 2, cpuRequest: 500m, cpuTarget: 50 }');
    return undefined;
  }
  const a = raw as Record<string, unknown>;
  for (const k of Object.keys(a)) if (!FIELDS.includes(k)) bad(`autoscale.${k}`, `unknown field; allowed: ${FIELDS.join(', ')}`);
  if (!(AUTOSCALED as readonly unknown[]).includes(a.component)) bad('autoscale.component', `${a.component === undefined ? 'required' : `'${String(a.component)}' has no autoscaler the suite can turn on`}; allowed: ${AUTOSCALED.join(', ')}`);
  const max = a.maxReplicas;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 2 || max > MAX_REPLICAS) bad('autoscale.maxReplicas', `a whole number from 2 to ${MAX_REPLICAS}`);
  const request = typeof a.cpuRequest === 'string' ? /^(\d+)m$/.exec(a.cpuRequest) : null;
  const milli = request ? Number(request[1]) : NaN;
  if (!(milli >= 50 && milli <= 2000)) bad('autoscale.cpuRequest', 'millicores from 50m to 2000m, like 500m (what the target utilization is a share of)');
  const target = a.cpuTarget;
  if (typeof target !== 'number' || !Number.isInteger(target) || target < 10 || target > 100) bad('autoscale.cpuTarget', 'a whole percentage of the request from 10 to 100, like 50');
  const expect = (EXPECTABLE as readonly unknown[]).includes(a.expect) ? (a.expect as (typeof EXPECTABLE)[number]) : undefined;
  if (a.expect !== undefined && !expect) bad('autoscale.expect', `allowed: serving (the added replica takes at least half its even share of the predictions in the window), starved (it is ready but never does)`);
  if (!(AUTOSCALED as readonly unknown[]).includes(a.component) || typeof max !== 'number' || typeof target !== 'number' || Number.isNaN(milli)) return undefined;
  return { component: a.component as AutoscaleSpec['component'], maxReplicas: max, cpuRequestMilli: milli, cpuTargetPercent: target, ...(expect ? { expect } : {}) };
}
