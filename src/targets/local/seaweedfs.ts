import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { tool, venvBin, workloadsDir } from '../../paths.ts';
import { timeouts } from '../../timeouts.ts';
import { http, HttpFailure } from '../../util/http.ts';
import { pollUntil } from '../../util/poll.ts';
import { LOOPBACK } from '../../util/ports.ts';
import { registerSecret } from '../../util/redact.ts';
import { runToCompletion, lastJsonLine } from '../../util/run-to-completion.ts';
import type { S3Credentials } from '../stack.ts';
import type { StackContext } from './context.ts';
import type { ManagedProcess, Watched } from './managed-process.ts';

export interface SeaweedFs {
  /** Direct S3 endpoint for the harness's own checks; platforms reach S3 through their edges. */
  s3Url: string;
  masterAddress: string;
  filerAddress: string;
  credentials: S3Credentials;
  version: string;
  process: ManagedProcess;
}

export interface SeaweedPorts {
  s3: number;
  s3Grpc: number;
  master: number;
  masterGrpc: number;
  volume: number;
  volumeGrpc: number;
  filer: number;
  filerGrpc: number;
}

export const SEAWEED_PORT_COUNT = 8;

/**
 * Unix sockets `weed server` makes for its own gRPC services at paths it fixes in /tmp (command/server.go:
 * `/tmp/seaweedfs-<service>-grpc-<port>.sock`, no flag), and never removes when it is killed: the stack removes them.
 */
export function seaweedGrpcSockets(p: SeaweedPorts): string[] {
  return ([['master', p.masterGrpc], ['volume', p.volumeGrpc], ['filer', p.filerGrpc], ['s3', p.s3Grpc]] as const).map(([name, port]) => `/tmp/seaweedfs-${name}-grpc-${port}.sock`);
}

export function seaweedPorts(p: number[]): SeaweedPorts {
  const [s3, s3Grpc, master, masterGrpc, volume, volumeGrpc, filer, filerGrpc] = p as [number, number, number, number, number, number, number, number];
  return { s3, s3Grpc, master, masterGrpc, volume, volumeGrpc, filer, filerGrpc };
}

/** Direct access to the object store for the harness's own checks. */
export interface S3Access {
  url: string;
  credentials: S3Credentials;
}

/** Environment for the harness's boto3 helper (workloads/mlflow3/s3_admin.py). */
export function s3AdminEnv(s3: S3Access): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    S3_ADMIN_ENDPOINT: s3.url,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
  };
}

export async function s3Admin<T>(s3: S3Access, args: string[], what: string): Promise<T> {
  const run = await runToCompletion(venvBin('mlflow3', 'python'), [join(workloadsDir, 'mlflow3', 's3_admin.py'), ...args], {
    env: s3AdminEnv(s3),
    deadlineMs: timeouts.mlflowClientOp,
    what,
  });
  const out = lastJsonLine<T & { error?: string }>(run.stdout);
  if (run.code !== 0 || !out) throw new Error(`${what} failed: ${out?.error ?? run.stderr.slice(-500)}`);
  return out;
}

/**
 * What every target gives `weed server` besides its addresses.
 * - `-master.peers=none`: the stack has one master, and SeaweedFS's single-master mode says so
 *   (command/master.go, isSingleMasterMode). Without it a restarted master waits for a Raft
 *   election as if peers might exist: 17 s here after a kill, every S3 call refused meanwhile;
 *   with it, it resumes its own state as leader at once (server/raft_server.go, fastResume).
 * - Small volumes: the stack must fit a laptop, and a storage-quota fault must be reachable.
 * - No telemetry, and no Iceberg or Lance ports: nothing leaves this machine, nothing listens unasked.
 */
export const WEED_SERVER_OPTIONS = ['-master.peers=none', '-master.volumeSizeLimitMB=64', '-volume.max=32', '-master.telemetry=false', '-s3.port.iceberg=0', '-s3.port.lance=0'];

/** Starts `weed server` and returns at once; `waitSeaweedReady` says when it takes the buckets' writes. */
export function launchSeaweedFs(ctx: StackContext, ports: SeaweedPorts): SeaweedFs {
  const dir = ctx.dir('seaweedfs');
  const dataDir = ctx.dir('seaweedfs/data');
  const credentials: S3Credentials = {
    accessKeyId: registerSecret(`chaos${randomBytes(8).toString('hex')}`),
    secretAccessKey: registerSecret(randomBytes(24).toString('base64url')),
  };
  const configFile = join(dir, 's3.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      identities: [{ name: 'chaos', credentials: [{ accessKey: credentials.accessKeyId, secretKey: credentials.secretAccessKey }], actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'] }],
    }),
    { mode: 0o600 },
  );
  const proc = ctx.start({
    name: 'seaweedfs',
    command: tool('weed'),
    args: [
      // Its own log files (glog) go to /tmp unless told otherwise, one set per start, never removed.
      `-logdir=${dir}`,
      'server', `-dir=${dataDir}`, `-ip=${LOOPBACK}`, `-ip.bind=${LOOPBACK}`,
      `-master.port=${ports.master}`, `-master.port.grpc=${ports.masterGrpc}`,
      `-volume.port=${ports.volume}`, `-volume.port.grpc=${ports.volumeGrpc}`,
      `-filer.port=${ports.filer}`, `-filer.port.grpc=${ports.filerGrpc}`,
      '-s3', `-s3.port=${ports.s3}`, `-s3.port.grpc=${ports.s3Grpc}`, `-s3.config=${configFile}`,
      `-filer.localSocket=${join(dir, 'filer.sock')}`, `-s3.localSocket=${join(dir, 's3.sock')}`,
      ...WEED_SERVER_OPTIONS,
    ],
    env: { PATH: process.env.PATH, HOME: dir },
    // Its graceful shutdown takes over 10 s and the data is discarded at teardown anyway.
    stopSignal: 'SIGKILL',
  });
  const s3Url = `http://${LOOPBACK}:${ports.s3}`;
  return { s3Url, masterAddress: `${LOOPBACK}:${ports.master}.${ports.masterGrpc}`, filerAddress: `${LOOPBACK}:${ports.filer}.${ports.filerGrpc}`, credentials, version: weedVersion(), process: proc };
}

/** Ready = the S3 gateway answers and the buckets exist (created if missing): it answers before the filer can take writes. */
export async function waitSeaweedReady(proc: Watched, s3: { s3Url: string; credentials: S3Credentials }, buckets: string[]): Promise<void> {
  await pollUntil('SeaweedFS S3 gateway to answer HTTP', timeouts.seaweedfsReady, async () => {
    try {
      await http(s3.s3Url, { timeoutMs: timeouts.readinessPoke });
      return { done: true, value: undefined };
    } catch (err) {
      if (err instanceof HttpFailure) return { done: false, note: err.message };
      throw err;
    }
  }, { abort: proc.failOnExit() });
  await pollUntil(`SeaweedFS to create buckets ${buckets.join(', ')}`, timeouts.seaweedfsReady, async () => {
    try {
      await s3Admin({ url: s3.s3Url, credentials: s3.credentials }, ['create-buckets', ...buckets], 'create buckets');
      return { done: true, value: undefined };
    } catch (err) {
      return { done: false, note: (err as Error).message };
    }
  }, { abort: proc.failOnExit() });
}

function weedVersion(): string {
  const out = spawnSync(tool('weed'), ['version'], { encoding: 'utf8' }).stdout;
  return out.match(/version \S+ (\d+\.\d+)/)?.[1] ?? 'unknown';
}

/** Runs commands in `weed shell` and returns what it printed; a target decides where the shell runs. */
export type WeedShell = (commands: string[]) => Promise<string>;

/** `weed shell` from this machine against a local SeaweedFS. */
export function localWeedShell(s3: SeaweedFs): WeedShell {
  return async (commands) => {
    const res = spawnSync(tool('weed'), ['shell', `-master=${s3.masterAddress}`, `-filer=${s3.filerAddress}`], {
      input: `${commands.join('\n')}\nexit\n`,
      encoding: 'utf8',
      timeout: timeouts.mlflowClientOp,
    });
    return checkWeedShell(commands, res.status, res.stdout, res.stderr);
  };
}

export function checkWeedShell(commands: string[], status: number | null, stdout: string, stderr: string): string {
  const out = `${stdout}${stderr}`;
  if (status !== 0 || /error|failed/i.test(stdout)) throw new Error(`weed shell ${commands.join('; ')} failed (exit ${status}): ${out.slice(-500)}`);
  return out;
}

/**
 * SeaweedFS's bucket quota (its wiki, "S3 Bucket Quota"): `s3.bucket.quota` sets it and
 * `s3.bucket.quota.enforce -apply` makes an over-quota bucket read-only; removing the quota
 * clears the read-only flag.
 */
export async function setBucketQuota(weedShell: WeedShell, access: S3Access, bucket: string, sizeMB: number | null): Promise<void> {
  if (sizeMB === null) {
    await weedShell([`s3.bucket.quota -name=${bucket} -op=remove`]);
    return;
  }
  await weedShell([`s3.bucket.quota -name=${bucket} -op=set -sizeMB=${sizeMB}`]);
  // Enforcement reads collection sizes from volume heartbeats, which lag a fresh write: enforce
  // until it flips the bucket, then until the gateway really refuses a write.
  await pollUntil(`SeaweedFS to turn bucket ${bucket} read-only over its ${sizeMB} MiB quota`, timeouts.seaweedfsReady, async () => {
    const out = await weedShell(['s3.bucket.quota.enforce -apply']);
    if (!out.includes(`changing bucket ${bucket} to read only`)) {
      const refused = await s3Admin(access, ['put-filler', bucket, 'chaos-quota-probe', '0'], 'probe write').then(() => false, () => true);
      if (!refused) return { done: false, note: out.trim().split('\n').slice(-2).join(' ') || 'enforce changed nothing yet' };
    }
    const refused = await s3Admin(access, ['put-filler', bucket, 'chaos-quota-probe', '0'], 'probe write').then(() => false, () => true);
    return refused ? { done: true, value: undefined } : { done: false, note: 'the gateway still accepts writes' };
  }, { intervalMs: 1_000 });
}
