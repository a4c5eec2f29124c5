import { isEdgeName } from '../targets/stack.ts';
import type { FaultModule } from './types.ts';

/** Hard down: the proxy stops listening and drops open connections (connection refused). */
export const outage: FaultModule = {
  type: 'outage',
  on: 'edge',
  description: 'the dependency is down: connections are refused and open ones closed',
  params: {},
  async inject(stack, edge) {
    if (!isEdgeName(edge)) throw new Error(`unknown edge '${edge}'`);
    const proxy = stack.edges[edge].proxy;
    await stack.toxiproxy.setEnabled(proxy, false);
    return { undo: () => stack.toxiproxy.setEnabled(proxy, true), persisted: { kind: 'enable-proxy', proxy } };
  },
};
