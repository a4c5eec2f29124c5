import type { ScenarioResult, VerdictEntry } from './results.ts';

export const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
const secs = (ms: number | null) => (ms === null ? '–' : `${(ms / 1000).toFixed(1)}s`);

function columns(results: ScenarioResult[]): string[] {
  return [...new Set(results.flatMap((r) => r.verdicts.map((v) => v.capability)))].sort();
}

const faultText = (r: ScenarioResult) => (r.fault ? `${r.fault.type} ${r.fault.edge ?? r.fault.process}` : 'none');

function cellText(v: VerdictEntry | undefined): string {
  if (!v) return '';
  const mark = v.judgement === 'as-expected' ? '' : v.judgement === 'unexpected-pass' ? ' (fixed upstream?)' : ' ✗';
  return `${v.verdict}${mark} · TTD ${secs(v.ttdMs)} · TTR ${secs(v.ttrMs)}`;
}

/** Rows = scenarios, columns = capabilities, cells = verdict, TTD, TTR; then each cell's evidence. */
export function matrixMarkdown(results: ScenarioResult[], meta: { date: string; versions: Record<string, string>; condition?: string; time?: string }): string {
  const cols = columns(results);
  const lines = [
    `Generated ${meta.date} on the ${results[0]?.target ?? 'local'} target${meta.condition ? ` (condition: ${meta.condition})` : ''}; ${Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    ...(meta.time ? ['', `${meta.time[0]!.toUpperCase()}${meta.time.slice(1)}.`] : []),
    '',
    `| scenario | fault | ${cols.join(' | ')} |`,
    `|---|---|${cols.map(() => '---').join('|')}|`,
    ...results.map((r) =>
      r.error
        ? `| ${r.scenario} | – | ${cols.map((_, i) => (i === 0 ? `**errored**: ${r.error!.replace(/\|/g, '/').slice(0, 200)}` : '')).join(' | ')} |`
        : `| ${r.scenario} | ${faultText(r)} | ${cols.map((c) => cellText(r.verdicts.find((v) => v.capability === c))).join(' | ')} |`,
    ),
    '',
    'Evidence (first two items per cell; all of it is in results.json):',
    '',
  ];
  for (const r of results) {
    for (const v of r.verdicts.filter((x) => x.evidence.length)) {
      lines.push(`- **${r.scenario} / ${v.capability}** (${v.verdict}${v.known ? `, known: ${v.known}` : ''}): ${v.evidence.slice(0, 2).map((e) => `${e.rule}: ${e.detail.replace(/\|/g, '/')}`).join('; ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function matrixHtml(results: ScenarioResult[], meta: { date: string; versions: Record<string, string>; condition?: string }): string {
  const cols = columns(results);
  const color = { resilient: '#d7f5dd', observable: '#fff3c4', silent: '#f8d0d0', unobserved: '#dddddd' } as const;
  const rows = results.map((r) => {
    if (r.error) return `<tr><th>${esc(r.scenario)}</th><td>–</td><td colspan="${cols.length}" style="background:#ddd"><b>errored</b>: ${esc(r.error)}</td></tr>`;
    const cells = cols.map((c) => {
      const v = r.verdicts.find((x) => x.capability === c);
      return v ? `<td style="background:${color[v.verdict]}" title="${esc(v.evidence.map((e) => `${e.rule}: ${e.detail}`).join('\n'))}">${esc(cellText(v))}</td>` : '<td></td>';
    });
    return `<tr><th>${esc(r.scenario)}</th><td>${esc(faultText(r))}</td>${cells.join('')}</tr>`;
  });
  return `<!doctype html><meta charset="utf-8"><title>mlops-chaos matrix</title>
<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 6px;font-size:12px;text-align:left}</style>
<p>Generated ${esc(meta.date)} on the ${esc(results[0]?.target ?? 'local')} target${meta.condition ? esc(` (condition: ${meta.condition})`) : ''}; ${esc(Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join(', '))}. Hover a cell for its evidence.</p>
<table><tr><th>scenario</th><th>fault</th>${cols.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>
${rows.join('\n')}</table>
`;
}

/** One testcase per scenario × capability; a failure where the run would fail (new silent, mismatch). */
export function junitXml(results: ScenarioResult[]): string {
  const cases = results.flatMap((r) =>
    r.error ? [`  <testcase classname="mlops-chaos.${esc(r.scenario)}" name="${esc(r.scenario)}" time="${(r.durationMs / 1000).toFixed(1)}"><error message="the experiment errored">${esc(r.error)}</error></testcase>`] :
    r.verdicts.map((v) => {
      const name = esc(`${r.scenario} › ${v.capability}`);
      const body = v.judgement === 'new-silent' || v.judgement === 'mismatch' ? `<failure message="${esc(`${v.verdict}, expected ${v.expected ?? 'not silent'}`)}">${esc(v.evidence.map((e) => `${e.rule}: ${e.detail}`).join('\n'))}</failure>` : '';
      return `  <testcase classname="mlops-chaos.${esc(r.scenario)}" name="${name}" time="${(r.durationMs / 1000).toFixed(1)}">${body}</testcase>`;
    }),
  );
  const failures = cases.filter((c) => c.includes('<failure')).length;
  const errors = cases.filter((c) => c.includes('<error')).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="mlops-chaos" tests="${cases.length}" failures="${failures}" errors="${errors}">\n${cases.join('\n')}\n</testsuite>\n`;
}
