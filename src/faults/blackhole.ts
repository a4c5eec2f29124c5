import { addToxic } from './toxic.ts';
import type { FaultModule } from './types.ts';

/**
 * Accepts connections and never answers: Toxiproxy's `timeout` toxic with timeout 0 drops data
 * on both streams and holds the connection. A far side that closes an idle connection itself
 * (uvicorn's 5 s keep-alive timeout) still ends it: Toxiproxy passes the close through.
 */
export const blackhole: FaultModule = {
  type: 'blackhole',
  on: 'edge',
  description: 'connections are accepted and nothing ever comes back',
  params: {},
  inject: (stack, edge) => addToxic(stack, edge, 'timeout', { timeout: 0 }, ['upstream', 'downstream']),
};
