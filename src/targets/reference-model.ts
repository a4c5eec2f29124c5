import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { venvBin, workloadsDir } from '../paths.ts';
import { timeouts } from '../timeouts.ts';
import { redact } from '../util/redact.ts';
import { runToCompletion } from '../util/run-to-completion.ts';
import type { ReferenceModel } from './stack.ts';

/** What every target does once its tracking server answers, so serving has a model to load. */

const REFERENCE_MODEL = 'ref-model';

/** Trains, logs, registers and aliases the reference model through `trackingUrl` (the client->mlflow edge). */
export async function trainReference(out: string, logFile: string, trackingUrl: string, artifactBucket: string): Promise<ReferenceModel> {
  const run = await runToCompletion(venvBin('mlflow3', 'python'), [join(workloadsDir, 'mlflow3', 'reference_model.py'), '--name', REFERENCE_MODEL, '--out', out], {
    env: { PATH: process.env.PATH, HOME: out, MLFLOW_TRACKING_URI: trackingUrl, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '2', MLFLOW_HTTP_REQUEST_TIMEOUT: '30', MLFLOW_ENABLE_TELEMETRY: 'false', DO_NOT_TRACK: 'true' },
    deadlineMs: timeouts.referenceModel,
    what: 'reference model to be trained, logged, registered and aliased',
    logFile,
  });
  if (run.code !== 0) throw new Error(`reference model failed (exit ${run.code}): ${redact(run.stderr.slice(-1500))}`);
  const ref = JSON.parse(readFileSync(join(out, 'reference.json'), 'utf8')) as {
    model_name: string; version: string; alias: string; run_id: string; model_uri: string; artifact_location: string; model_file: string;
    golden: ReferenceModel['golden'];
  };
  // Proxied artifacts: `mlflow-artifacts:/<path>` lives at s3://<bucket>/<path>.
  const path = ref.artifact_location.replace(/^mlflow-artifacts:\/*/, '');
  return {
    modelName: ref.model_name, version: ref.version, alias: ref.alias, runId: ref.run_id, modelUri: ref.model_uri,
    s3Uri: `s3://${artifactBucket}/${path}`, modelFile: ref.model_file, golden: ref.golden,
  };
}

/** A package's version as installed in one of set-up's venvs (the same venvs the images are made of). */
export function pythonPackageVersion(venv: 'mlflow3' | 'mlflow2' | 'kserve' | 'kfp', pkg: string): string {
  const site = join(venvBin(venv, '..'), 'lib');
  for (const py of readdirSync(site)) {
    const dist = readdirSync(join(site, py, 'site-packages')).find((d) => d.toLowerCase().startsWith(`${pkg}-`) && d.endsWith('.dist-info'));
    if (dist) return dist.slice(pkg.length + 1, -'.dist-info'.length);
  }
  return 'unknown';
}
