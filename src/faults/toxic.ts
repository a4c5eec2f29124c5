import type { Stack } from '../targets/stack.ts';
import type { Stream, ToxicType } from '../toxiproxy.ts';
import { isEdgeName } from '../targets/stack.ts';
import type { Injected } from './types.ts';

/** Adds one toxic to an edge's proxy; undo removes it (idempotently). */
export async function addToxic(stack: Stack, edge: string, type: ToxicType, attributes: Record<string, number>, stream: Stream = 'downstream'): Promise<Injected> {
  if (!isEdgeName(edge)) throw new Error(`unknown edge '${edge}'`);
  const proxy = stack.edges[edge].proxy;
  const name = `chaos_${type}_${stream}`;
  await stack.toxiproxy.addToxic(proxy, { name, type, stream, toxicity: 1, attributes });
  return { undo: () => stack.toxiproxy.removeToxic(proxy, name), persisted: { kind: 'remove-toxic', proxy, toxic: name } };
}
