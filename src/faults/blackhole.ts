import { addToxic } from './toxic.ts';
import type { FaultModule } from './types.ts';

/** Accepts connections and never answers: Toxiproxy's `timeout` toxic with timeout 0 holds data forever. */
export const blackhole: FaultModule = {
  type: 'blackhole',
  on: 'edge',
  description: 'connections are accepted and nothing ever comes back',
  params: {},
  inject: (stack, edge) => addToxic(stack, edge, 'timeout', { timeout: 0 }, 'upstream'),
};
