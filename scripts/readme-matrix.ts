/**
 * Puts a chaos run's matrix into the README between its target's markers (`matrix:` for local,
 * `matrix-docker:` for docker).
 *   node --import tsx scripts/readme-matrix.ts reports/<run>/results.json
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../src/paths.ts';
import { matrixMarkdown } from '../src/report/matrix.ts';
import type { ScenarioResult } from '../src/report/results.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: scripts/readme-matrix.ts reports/<run>/results.json');
const results = JSON.parse(readFileSync(file, 'utf8')) as ScenarioResult[];
const first = results[0];
if (!first) throw new Error(`${file} holds no scenario results`);
const total = results.reduce((s, r) => s + r.durationMs, 0);
const slowest = [...results].sort((a, b) => b.durationMs - a.durationMs).slice(0, 3).map((r) => `${r.scenario} ${(r.durationMs / 1000).toFixed(0)} s`);
const body = `${matrixMarkdown(results, { date: statSync(file).mtime.toISOString(), versions: first.versions })}
${results.length} scenarios, ${(total / 1000).toFixed(0)} s of experiments (plus one stack start); the slowest: ${slowest.join(', ')}.
`;
const readme = join(repoRoot, 'README.md');
const text = readFileSync(readme, 'utf8');
const marker = first.target && first.target !== 'local' ? `matrix-${first.target}` : 'matrix';
const start = `<!-- ${marker}:start -->`;
const end = `<!-- ${marker}:end -->`;
if (!text.includes(start) || !text.includes(end)) throw new Error(`README.md has no ${start} … ${end} markers`);
writeFileSync(readme, `${text.slice(0, text.indexOf(start) + start.length)}\n${body}${text.slice(text.indexOf(end))}`);
