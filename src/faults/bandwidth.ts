import { addToxic } from './toxic.ts';
import type { FaultModule } from './types.ts';

export const bandwidth: FaultModule = {
  type: 'bandwidth',
  on: 'edge',
  description: 'the link is throttled',
  params: { rateKBps: { doc: 'bandwidth in KB/s', min: 1 } },
  inject: (stack, edge, p) => addToxic(stack, edge, 'bandwidth', { rate: p.rateKBps! }),
};
