#!/usr/bin/env bash
# Runs the no-fault baseline and every negative control N times (default 5) on one stack and
# prints, per test, how many runs passed: the baseline must say `resilient` N/N and every
# control `silent` N/N. Usage: scripts/repeat-controls.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5}
export MLOPS_CHAOS_RUN_ID="repeat-controls-$(date -u +%Y%m%dT%H%M%SZ)"
bash scripts/setup --quiet-if-ready
mkdir -p "reports/$MLOPS_CHAOS_RUN_ID"
PLAYWRIGHT_JSON_OUTPUT_NAME="reports/$MLOPS_CHAOS_RUN_ID/tests.json" npx playwright test --project=local tests/integration/negative-controls.spec.ts --repeat-each "$n" --reporter=json,./tests/summary-reporter.ts > "reports/$MLOPS_CHAOS_RUN_ID.log" 2>&1 || true
node -e '
const fs = require("fs");
const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const rows = {};
const walk = (s) => { for (const sp of s.specs ?? []) for (const t of sp.tests) for (const res of t.results) { const k = sp.title; rows[k] ??= { pass: 0, runs: 0 }; rows[k].runs++; if (res.status === "passed") rows[k].pass++; } for (const c of s.suites ?? []) walk(c); };
r.suites.forEach(walk);
for (const [k, v] of Object.entries(rows)) console.log(`${v.pass}/${v.runs}  ${k}`);
const bad = Object.values(rows).filter((v) => v.pass !== v.runs).length;
console.log(bad ? `${bad} control(s) not ${process.argv[2]}/${process.argv[2]}` : "every control and the baseline held in every run");
process.exit(bad ? 1 : 0);
' "reports/$MLOPS_CHAOS_RUN_ID/tests.json" "$n"
