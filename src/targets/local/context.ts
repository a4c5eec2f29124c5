import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess, type ProcessSpec } from './managed-process.ts';
import type { FaultLog } from '../../faults/types.ts';
import type { StackRecord } from './registry.ts';
import { ownerIdentity, saveRecord } from './registry.ts';
import { WORKDIR_PREFIX } from './reaper.ts';

/** The run's id: given, from MLOPS_CHAOS_RUN_ID, or the start time; reports go under reports/<it>. */
export function runIdOf(given?: string): string {
  return given ?? process.env.MLOPS_CHAOS_RUN_ID ?? new Date().toISOString().replace(/[:.]/g, '-');
}

/**
 * What every component of one local stack shares: its work dir, its record on disk (so a
 * crashed run's processes can be reaped) and its processes.
 */
export class StackContext {
  readonly processes = new Map<string, ManagedProcess>();

  // Last resort when the runner exits without teardown (an uncaught error, process.exit):
  // SIGKILL is synchronous, so it still runs from an 'exit' handler. SIGKILL of the runner
  // itself is the reaper's job at the next start.
  private readonly killAllSync = () => {
    for (const p of this.processes.values()) p.signal('SIGKILL');
  };

  /**
   * A new stack's context on every target: a fresh work dir (0755: PostgreSQL runs as its own
   * user and must reach its data dir) and its record, saved before anything starts.
   */
  static open(kept: boolean): StackContext {
    const workDir = mkdtempSync(join(tmpdir(), WORKDIR_PREFIX));
    chmodSync(workDir, 0o755);
    const ctx = new StackContext({ id: `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`, owner: ownerIdentity(), kept, workDir, createdAt: new Date().toISOString(), processes: [], faults: [] });
    ctx.save();
    return ctx;
  }

  constructor(readonly record: StackRecord) {
    mkdirSync(this.logsDir, { recursive: true });
    if (!record.kept) process.on('exit', this.killAllSync);
  }

  /** Teardown finished: nothing left for the exit hook to do. */
  close(): void {
    process.off('exit', this.killAllSync);
  }

  get workDir(): string {
    return this.record.workDir;
  }

  get logsDir(): string {
    return join(this.workDir, 'logs');
  }

  dir(name: string): string {
    const d = join(this.workDir, name);
    mkdirSync(d, { recursive: true, mode: 0o755 });
    return d;
  }

  /** Starts a process and records it before anything can go wrong with it. */
  start(spec: Omit<ProcessSpec, 'logFile'>): ManagedProcess {
    const proc = ManagedProcess.start({ ...spec, logFile: join(this.logsDir, `${spec.name}.log`) });
    this.processes.set(spec.name, proc);
    this.record.processes = this.record.processes.filter((p) => p.name !== spec.name);
    this.record.processes.push(proc.record);
    saveRecord(this.record);
    return proc;
  }

  /** Replaces a process record after a restart (kill fault). */
  forget(name: string): void {
    this.processes.delete(name);
    this.record.processes = this.record.processes.filter((p) => p.name !== name);
    saveRecord(this.record);
  }

  save(): void {
    saveRecord(this.record);
  }

  /** Active faults, written to the record so the next run can revert what a crashed one left. */
  readonly faultLog: FaultLog = {
    add: (rec) => {
      this.record.faults.push(rec);
      this.save();
    },
    remove: (id) => {
      this.record.faults = this.record.faults.filter((f) => f.id !== id);
      this.save();
    },
  };
}
