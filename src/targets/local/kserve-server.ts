import { join } from 'node:path';
import { workloadsDir } from '../../paths.ts';
import { roleBin, type VenvOverrides } from '../venv-overrides.ts';
import { timeouts } from '../../timeouts.ts';
import type { StackContext } from './context.ts';
import type { ManagedProcess, Watched } from './managed-process.ts';
import { waitHttp200 } from '../../util/wait-http.ts';
import type { S3Credentials } from '../stack.ts';

export const KSERVE_MODEL_NAME = 'ref';

/**
 * A KServe ModelServer (workloads/kserve/model_server.py) that pulls the reference model from S3
 * through the kserve->s3 edge, the way KServe's storage initializer does.
 */
export function startKserve(ctx: StackContext, opts: { port: number; storageUri: string; s3Edge: string; credentials: S3Credentials; venvs?: VenvOverrides }): ManagedProcess {
  return ctx.start({
    name: 'kserve',
    command: roleBin('kserve', 'python', opts.venvs),
    args: [join(workloadsDir, 'kserve', 'model_server.py'), '--model-name', KSERVE_MODEL_NAME, '--storage-uri', opts.storageUri, '--http-port', String(opts.port), '--model-dir', ctx.dir('kserve-model')],
    env: {
      PATH: process.env.PATH,
      HOME: ctx.dir('kserve-home'),
      AWS_ACCESS_KEY_ID: opts.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: opts.credentials.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: opts.s3Edge,
      S3_ENDPOINT: opts.s3Edge.replace(/^https?:\/\//, ''),
      S3_USE_HTTPS: '0',
      S3_VERIFY_SSL: '0',
    },
  });
}

/** Ready = the model's own readiness (`/v2/models/{name}/ready`); server readiness is always true. */
export function waitKserveReady(proc: Watched, url: string): Promise<void> {
  return waitHttp200(proc, `KServe model '${KSERVE_MODEL_NAME}' to report ready`, `${url}/v2/models/${KSERVE_MODEL_NAME}/ready`, timeouts.kserveReady);
}
