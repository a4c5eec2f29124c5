import { addToxic } from './toxic.ts';
import type { FaultModule } from './types.ts';

export const latency: FaultModule = {
  type: 'latency',
  on: 'edge',
  description: 'every response is delayed',
  params: {
    latencyMs: { doc: 'added delay per response, ms', min: 1, max: 600_000 },
    jitterMs: { doc: 'random ± variation, ms (Toxiproxy draws it; its -seed has no effect)', min: 0, max: 600_000, default: 0 },
  },
  inject: (stack, edge, p) => addToxic(stack, edge, 'latency', { latency: p.latencyMs!, jitter: p.jitterMs ?? 0 }),
};
