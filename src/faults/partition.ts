import { CONTAINER_FAULT_TARGETS, CONTAINER_TARGETS, containerOf } from './container.ts';
import type { FaultModule } from './types.ts';

/**
 * The container is detached from the stack's network, not through Toxiproxy: every peer loses its
 * address (its name stops resolving, connections to it go unanswered), as when a node drops off
 * the network. Revert attaches it again under the same name.
 */
export const partition: FaultModule = {
  type: 'partition',
  on: 'process',
  onlyOn: CONTAINER_TARGETS,
  targets: CONTAINER_FAULT_TARGETS,
  description: "the container is cut off the stack's network, then reattached at revert",
  params: {},
  async inject(stack, target) {
    const { c, name } = containerOf(stack, 'partition', target);
    const before = (await c.state(name)).networks;
    await c.disconnect(name);
    const after = (await c.state(name)).networks;
    const cut = before.filter((n) => !after.includes(n));
    // It acted only if the engine no longer lists the stack's network on the container.
    if (cut.length === 0) throw new Error(`partition: ${name} is still attached to ${after.join(', ')} after the disconnect`);
    return {
      undo: () => c.connect(name),
      persisted: { kind: 'none' }, // a crashed run's containers are removed whole by the reaper
      note: `${name} detached from ${cut.join(', ')} (the engine lists it on ${after.length ? after.join(', ') : 'no network'})`,
    };
  },
};
