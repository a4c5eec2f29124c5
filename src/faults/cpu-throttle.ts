import { CONTAINER_FAULT_TARGETS, CONTAINER_TARGETS, containerOf } from './container.ts';
import type { FaultModule } from './types.ts';

/**
 * The container's CPU quota cut to a sliver (the CFS quota `docker update --cpus` sets, as a
 * Kubernetes CPU limit does): slow but honest, or health checks that time out and readiness that
 * flaps? Revert restores the quota it started with.
 */
export const cpuThrottle: FaultModule = {
  type: 'cpu-throttle',
  on: 'process',
  onlyOn: CONTAINER_TARGETS,
  targets: CONTAINER_FAULT_TARGETS,
  description: "the container's CPU quota is cut to a fraction of a core until revert",
  params: {
    cpus: { doc: 'the CPU quota in cores while the fault holds', min: 0.01, max: 1, default: 0.05 },
  },
  async inject(stack, target, p) {
    const { c, name } = containerOf(stack, 'cpu-throttle', target);
    const cpus = p.cpus ?? 0.05;
    await c.setLimits(name, { cpus });
    const seen = (await c.state(name)).cpus;
    // It acted only if the engine reports the new quota.
    if (Math.abs(seen - cpus) > 1e-6) throw new Error(`cpu-throttle: ${name}'s quota is ${seen} cores after setting ${cpus}`);
    return {
      undo: () => c.setLimits(name, { cpus: null }),
      persisted: { kind: 'none' },
      note: `${name}'s CPU quota set to ${cpus} cores (the engine reports ${seen})`,
    };
  },
};
