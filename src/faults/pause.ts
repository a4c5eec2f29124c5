import { isProcessName } from '../targets/stack.ts';
import type { FaultModule } from './types.ts';

/** SIGSTOP: the process keeps its sockets and answers nothing, like a GC pause or a frozen VM. */
export const pause: FaultModule = {
  type: 'pause',
  on: 'process',
  // Not toxiproxy: it is the fault injector, and its proxies would not come back with it.
  targets: ['postgres', 'seaweedfs', 'mlflow', 'mlflow-serving', 'kserve'],
  description: 'the process is frozen (SIGSTOP) until revert (SIGCONT)',
  params: {},
  async inject(stack, name) {
    if (!isProcessName(name)) throw new Error(`unknown process '${name}'`);
    const proc = stack.process(name);
    await proc.signal('SIGSTOP');
    return { undo: () => proc.signal('SIGCONT'), persisted: { kind: 'sigcont', pid: proc.pid, startTime: proc.startTime } };
  },
};
