import { spawnSync } from 'node:child_process';
import { chownSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { timeouts } from '../../timeouts.ts';
import { pollUntil } from '../../util/poll.ts';
import { registerSecret } from '../../util/redact.ts';
import { LOOPBACK } from '../../util/ports.ts';
import type { StackContext } from './context.ts';
import type { ManagedProcess, Watched } from './managed-process.ts';

export interface Postgres {
  port: number;
  user: string;
  /** Secret: registered for redaction; passed to clients as PGPASSWORD, never in a URI. */
  password: string;
  database: string;
  maxConnections: number;
  version: string;
  process: ManagedProcess;
}

export const PG_USER = 'chaos';
export const PG_DATABASE = 'mlflow';
export const PG_MAX_CONNECTIONS = 100;

function pgBin(exe: string): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('PostgreSQL server not found under /usr/lib/postgresql (run scripts/setup)');
  return join('/usr/lib/postgresql', versions[0], 'bin', exe);
}

/** PostgreSQL refuses to run as root; as root, run it as the Debian package's `postgres` user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const res = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error("running as root, PostgreSQL needs the unprivileged user 'postgres' (apt-get install postgresql)");
  return { uid: Number(res.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function psql(pg: { port: number; password: string }, sql: string, database = 'postgres'): { ok: boolean; out: string } {
  const res = spawnSync('psql', ['-h', LOOPBACK, '-p', String(pg.port), '-U', PG_USER, '-d', database, '-v', 'ON_ERROR_STOP=1', '-tAc', sql], {
    encoding: 'utf8',
    env: { ...process.env, PGPASSWORD: pg.password, PGCONNECT_TIMEOUT: '3' },
    timeout: timeouts.httpRequest,
  });
  return { ok: res.status === 0, out: `${res.stdout}${res.stderr}`.trim() };
}

export async function startPostgres(ctx: StackContext, port: number): Promise<Postgres> {
  const dir = ctx.dir('postgres');
  const data = join(dir, 'data');
  const user = runAs();
  const password = registerSecret(randomBytes(18).toString('base64url'));
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(pwfile, user.uid, user.gid);
  }
  const init = spawnSync(
    pgBin('initdb'),
    ['-D', data, '-U', PG_USER, `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=scram-sha-256', '--no-sync', '-E', 'UTF8', '--locale=C'],
    { encoding: 'utf8', uid: user?.uid, gid: user?.gid, timeout: timeouts.postgresReady },
  );
  if (init.status !== 0) throw new Error(`initdb failed (exit ${init.status}): ${init.stderr.slice(-1500)}`);

  const proc = ctx.start({
    name: 'postgres',
    command: pgBin('postgres'),
    args: [
      '-D', data, '-p', String(port),
      '-c', `listen_addresses=${LOOPBACK}`,
      '-c', `unix_socket_directories=${dir}`,
      '-c', `max_connections=${PG_MAX_CONNECTIONS}`,
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
      '-c', 'shared_buffers=64MB',
    ],
    user,
    stopSignal: 'SIGINT',
  });
  await waitPostgresReady(proc, port, password);
  const created = psql({ port, password }, `CREATE DATABASE ${PG_DATABASE}`);
  if (!created.ok) throw new Error(`creating database ${PG_DATABASE} failed: ${created.out}`);
  const version = psql({ port, password }, 'SHOW server_version').out.split(' ')[0] ?? 'unknown';
  return { port, user: PG_USER, password, database: PG_DATABASE, maxConnections: PG_MAX_CONNECTIONS, version, process: proc };
}

export async function waitPostgresReady(proc: Watched, port: number, password: string): Promise<void> {
  await pollUntil('PostgreSQL to accept connections', timeouts.postgresReady, async () => {
    const r = psql({ port, password }, 'SELECT 1');
    return r.ok ? { done: true, value: undefined } : { done: false, note: r.out };
  }, { abort: proc.failOnExit() });
}

/** A SQL statement as the stack's database owner (resource faults, ledger checks). */
export function runSql(pg: Postgres, sql: string, database = PG_DATABASE): string {
  const r = psql(pg, sql, database);
  if (!r.ok) throw new Error(`SQL failed on ${database}: ${r.out}`);
  return r.out;
}

