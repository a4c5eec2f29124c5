import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { venvBin, workloadsDir } from '../paths.ts';
import { timeouts } from '../timeouts.ts';
import { procInfo, signalGroup } from '../targets/local/proc.ts';
import { DeadlineExceeded } from '../util/poll.ts';
import type { FaultModule } from './types.ts';

/**
 * Another tenant holds every free PostgreSQL connection (real connections, up to the server's
 * limit); with `terminateOthers` 1 it also ends the application's pooled connections first, as a
 * failover would, so the tracking server must open new ones and cannot.
 */
export const connExhaustion: FaultModule = {
  type: 'conn-exhaustion',
  on: 'process',
  targets: ['postgres'],
  description: "PostgreSQL's connection slots are all taken by another client",
  params: {
    leave: { doc: 'connections left free', min: 0, default: 0 },
    terminateOthers: { doc: '1: also terminate the existing client connections (the pool must reconnect)', min: 0, max: 1, default: 1 },
  },
  async inject(stack, _target, p) {
    const pg = stack.postgres;
    const args = [join(workloadsDir, 'mlflow3', 'hold_pg_connections.py'), '--port', String(pg.port), '--user', pg.user, '--database', pg.database, '--max', String(pg.maxConnections), '--leave', String(p.leave ?? 0)];
    if (p.terminateOthers) args.push('--terminate-others');
    const child = spawn(venvBin('mlflow3', 'python'), args, { env: { PATH: process.env.PATH, PGPASSWORD: pg.password }, detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
    const startTime = procInfo(child.pid ?? -1)?.startTime ?? 0;
    const held = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new DeadlineExceeded('the connection holder to take every free PostgreSQL connection', timeouts.mlflowClientOp)), timeouts.mlflowClientOp);
      createInterface({ input: child.stdout }).once('line', (l) => (clearTimeout(timer), resolve(l)));
      child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`connection holder exited (${code}) before holding connections`))));
    }).catch((err: unknown) => {
      if (child.pid) signalGroup(child.pid, startTime, 'SIGKILL');
      throw err;
    });
    if (!/"held": [1-9]/.test(held)) throw new Error(`connection holder held nothing: ${held}`);
    return {
      undo: async () => {
        const gone = new Promise((r) => child.once('exit', r));
        child.stdin.end(); // the holder closes its connections and exits
        const timer = setTimeout(() => child.pid && signalGroup(child.pid, startTime, 'SIGKILL'), timeouts.processStop);
        await gone;
        clearTimeout(timer);
      },
      persisted: { kind: 'kill-group', pid: child.pid ?? -1, startTime },
    };
  },
};
