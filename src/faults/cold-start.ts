import type { ProcessName, Stack } from '../targets/stack.ts';
import type { Injected } from './types.ts';

/**
 * Starts `name` afresh while the fault holds (as a new replica would) and, at revert, after the
 * fault's own undo, makes sure it is serving again, starting it once more if it gave up (as a
 * restart policy would). The note says how the start under the fault went.
 */
export function coldStart(stack: Stack, name: ProcessName, injected: Injected): Injected {
  const proc = stack.process(name);
  const started = Date.now();
  let outcome = 'still starting when the fault was reverted';
  const up = proc.restart().then(
    () => void (outcome = `came up ${((Date.now() - started) / 1000).toFixed(1)} s after it started under the fault`),
    (err: unknown) => void (outcome = `did not come up under the fault: ${firstAndLast(err instanceof Error ? err.message : String(err))}`),
  );
  return {
    persisted: injected.persisted,
    undo: async () => {
      await injected.undo();
      await up;
      if (!outcome.startsWith('came up')) await proc.restart();
    },
    get note() {
      return `${injected.note ? `${injected.note}; ` : ''}${name} restarted under the fault: ${outcome}`;
    },
  };
}

/** "X exited (code 1); last log lines:" plus the last of them: what a person needs from a failed start. */
function firstAndLast(message: string): string {
  const lines = message.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.length > 1 ? `${lines[0]} … ${lines.at(-1)}` : (lines[0] ?? '')).slice(0, 400);
}
