import type { Stack } from '../targets/stack.ts';
import type { Stream, ToxicType } from '../toxiproxy.ts';
import { isEdgeName } from '../targets/stack.ts';
import type { Injected } from './types.ts';

/** Adds a toxic to an edge's proxy, on each stream given; undo removes them (idempotently). */
export async function addToxic(stack: Stack, edge: string, type: ToxicType, attributes: Record<string, number>, streams: Stream[] = ['downstream']): Promise<Injected> {
  if (!isEdgeName(edge)) throw new Error(`unknown edge '${edge}'`);
  const proxy = stack.edges[edge].proxy;
  const names = streams.map((stream) => `chaos_${type}_${stream}`);
  const undo = async () => {
    for (const n of names) await stack.toxiproxy.removeToxic(proxy, n);
  };
  try {
    for (const [i, stream] of streams.entries()) await stack.toxiproxy.addToxic(proxy, { name: names[i]!, type, stream, toxicity: 1, attributes });
  } catch (err) {
    await undo(); // half a fault is not left behind
    throw err;
  }
  return { undo, persisted: { kind: 'remove-toxics', proxy, toxics: names } };
}
