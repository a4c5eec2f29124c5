import { isProcessName } from '../targets/stack.ts';
import type { FaultModule } from './types.ts';

/** SIGKILL, as a crash or an OOM kill; revert restarts the process and waits until it is ready. */
export const kill: FaultModule = {
  type: 'kill',
  on: 'process',
  description: 'the process is SIGKILLed, then restarted at revert',
  params: {},
  async inject(stack, name) {
    if (!isProcessName(name)) throw new Error(`unknown process '${name}'`);
    const proc = stack.process(name);
    proc.signal('SIGKILL');
    return { undo: () => proc.restart(), persisted: { kind: 'none' } };
  },
};
