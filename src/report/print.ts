import type { ScenarioResult } from './results.ts';

const MARK: Record<string, string> = { 'as-expected': 'ok  ', 'unexpected-pass': 'FIX?', mismatch: 'FAIL', 'new-silent': 'FAIL' };

/** The verdicts as a person reads them at the end of a run. */
export function formatVerdicts(r: ScenarioResult): string {
  if (r.error) return `${r.scenario}: ERRORED, no verdicts: ${r.error}`;
  const lines = [`${r.scenario}${r.fault ? ` (${r.fault.type} on ${r.fault.edge ?? r.fault.process})` : ' (baseline)'}:`];
  for (const v of r.verdicts) {
    const exp = v.expected ? ` expected ${v.expected}` : '';
    const t = `${v.ttdMs !== null ? ` TTD ${v.ttdMs} ms` : ''}${v.ttrMs !== null ? ` TTR ${v.ttrMs} ms` : ''}`;
    lines.push(`  ${MARK[v.judgement]} ${v.capability.padEnd(18)} ${v.verdict.padEnd(10)}${exp}${t}${v.known ? ` (known: ${v.known})` : ''}`);
    for (const e of v.evidence.slice(0, 2)) lines.push(`         ${e.rule}: ${e.detail.slice(0, 150)}`);
  }
  return lines.join('\n');
}
