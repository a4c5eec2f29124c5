import { addToxic } from './toxic.ts';
import type { FaultModule } from './types.ts';

/** Connections are reset (TCP RST) after `afterMs`: Toxiproxy's reset_peer. */
export const reset: FaultModule = {
  type: 'reset',
  on: 'edge',
  description: 'connections are reset by the peer',
  params: { afterMs: { doc: 'reset after this many ms of a connection (0 = at once)', min: 0, default: 0 } },
  inject: (stack, edge, p) => addToxic(stack, edge, 'reset_peer', { timeout: p.afterMs ?? 0 }),
};
