import { addToxic } from './toxic.ts';
import type { FaultModule } from './types.ts';

/** Each connection is cut after `bytes` have passed: a response truncated mid-stream. */
export const limitData: FaultModule = {
  type: 'limit-data',
  on: 'edge',
  description: 'connections are cut mid-stream after a number of bytes',
  params: { bytes: { doc: 'bytes let through per connection before it is closed', min: 1 } },
  inject: (stack, edge, p) => addToxic(stack, edge, 'limit_data', { bytes: p.bytes! }),
};
