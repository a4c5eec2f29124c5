import type { ExperimentResult } from '../experiment/experiment.ts';

const W = 900;
const ROW = 70;
const LEFT = 150;
const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/**
 * The timeline as a picture: one row per capability, each op a dot at its start whose height is
 * its latency (log scale), red for errors, black for timeouts; the fault window shaded.
 */
export function timelineSvg(r: ExperimentResult): string {
  const ops = r.timeline.filter((e) => e.healthOf === undefined);
  if (ops.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="40"><text x="10" y="25">no events</text></svg>`;
  const caps = [...new Set(ops.map((e) => e.capability))].sort();
  const t0 = Math.min(...ops.map((e) => e.start));
  const t1 = Math.max(...ops.map((e) => e.end));
  const x = (t: number) => LEFT + ((t - t0) / Math.max(1, t1 - t0)) * (W - LEFT - 20);
  const maxLat = Math.max(...ops.map((e) => e.end - e.start), 10);
  const y = (row: number, ms: number) => 20 + row * ROW + ROW - 10 - (Math.log10(Math.max(1, ms)) / Math.log10(maxLat)) * (ROW - 20);
  const h = 30 + caps.length * ROW;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" font-family="sans-serif" font-size="11">`, `<rect width="${W}" height="${h}" fill="white"/>`];
  if (r.window.revertedAt > r.window.injectedAt) {
    parts.push(`<rect x="${x(r.window.injectedAt)}" y="15" width="${x(r.window.revertedAt) - x(r.window.injectedAt)}" height="${h - 20}" fill="#fde2c8"/>`);
    parts.push(`<text x="${x(r.window.injectedAt) + 3}" y="12">${esc(r.fault ? `${r.fault.type} on ${r.fault.target}` : 'baseline window')}</text>`);
  }
  caps.forEach((c, row) => {
    const verdict = r.verdicts.find((v) => v.capability === c)?.verdict ?? '';
    parts.push(`<line x1="${LEFT}" x2="${W - 20}" y1="${20 + row * ROW + ROW - 10}" y2="${20 + row * ROW + ROW - 10}" stroke="#ccc"/>`);
    parts.push(`<text x="5" y="${20 + row * ROW + ROW / 2}">${esc(c)}</text><text x="5" y="${20 + row * ROW + ROW / 2 + 14}" fill="#555">${esc(verdict)}</text>`);
    for (const e of ops.filter((o) => o.capability === c)) {
      const color = e.outcome === 'ok' ? (e.correct === false ? '#a0f' : '#2a7') : e.outcome === 'error' ? '#d22' : '#000';
      parts.push(`<circle cx="${x(e.start).toFixed(1)}" cy="${y(row, e.end - e.start).toFixed(1)}" r="2.5" fill="${color}"><title>${esc(`${e.op} ${e.outcome} ${e.end - e.start} ms ${e.status ?? ''} ${e.message ?? ''}`)}</title></circle>`);
    }
  });
  parts.push(`<text x="${LEFT}" y="${h - 3}" fill="#555">${((t1 - t0) / 1000).toFixed(1)} s; dot height = latency (log, max ${maxLat} ms); green ok, red error, black timeout, purple wrong answer</text></svg>`);
  return parts.join('\n');
}
