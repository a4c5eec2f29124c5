import { isProcessName } from '../targets/stack.ts';
import type { FaultModule } from './types.ts';

/** SIGKILL, as a crash or an OOM kill; revert restarts the process and waits until it is ready. */
export const kill: FaultModule = {
  type: 'kill',
  on: 'process',
  // Not toxiproxy: it is the fault injector, and its proxies would not come back with it.
  targets: ['postgres', 'seaweedfs', 'mlflow', 'mlflow-serving', 'kserve'],
  description: 'the process is SIGKILLed, then restarted at revert',
  params: {},
  async inject(stack, name) {
    if (!isProcessName(name)) throw new Error(`unknown process '${name}'`);
    const proc = stack.process(name);
    await proc.signal('SIGKILL');
    return { undo: () => proc.restart(), persisted: { kind: 'none' } };
  },
};
