import { addToxic } from './toxic.ts';
import type { FaultModule } from './types.ts';

export const slowClose: FaultModule = {
  type: 'slow-close',
  on: 'edge',
  description: 'connections close only after a delay',
  params: { delayMs: { doc: 'delay before the connection closes, ms', min: 1 } },
  inject: (stack, edge, p) => addToxic(stack, edge, 'slow_close', { delay: p.delayMs! }),
};
