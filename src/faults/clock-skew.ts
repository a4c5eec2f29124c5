import { CONTAINER_FAULT_TARGETS, CONTAINER_TARGETS, containerOf } from './container.ts';
import type { FaultModule } from './types.ts';

/** Debian's libfaketime (package faketime, in the base image): shifts every clock call of a process it is preloaded into. */
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

/**
 * One container's clock moved (a node whose NTP stopped): the component is restarted with
 * libfaketime preloaded and an offset, so everything it signs or stamps is off — S3 request
 * signatures (SigV4 allows 15 minutes), run timestamps, token lifetimes. Revert restarts it with the
 * true clock. The note gives the offset measured inside the container against this machine's clock.
 */
export const clockSkew: FaultModule = {
  type: 'clock-skew',
  on: 'process',
  onlyOn: CONTAINER_TARGETS,
  targets: CONTAINER_FAULT_TARGETS,
  description: "the container's clock is shifted by an offset (libfaketime) until revert",
  params: {
    offsetS: { doc: 'seconds added to the clock (negative: behind)', min: -86_400 * 365, max: 86_400 * 365, default: 1200 },
  },
  async inject(stack, target, p) {
    const { c, name } = containerOf(stack, 'clock-skew', target);
    const offset = Math.round(p.offsetS ?? 1200);
    const proc = stack.process(name);
    await proc.restart({ LD_PRELOAD: LIBFAKETIME, FAKETIME: `${offset >= 0 ? '+' : ''}${offset}` });
    // `docker exec` inherits the container's environment, so `date` runs under the same clock.
    const inside = Number((await c.exec(name, ['date', '+%s'])).trim());
    const measured = inside - Math.round(Date.now() / 1000);
    if (Math.abs(measured - offset) > 5) throw new Error(`clock-skew: ${name}'s clock is off by ${measured} s after asking for ${offset} s`);
    return {
      activeAt: Date.now(),
      undo: () => proc.restart(),
      persisted: { kind: 'none' },
      note: `${name} restarted with its clock ${offset >= 0 ? 'ahead' : 'behind'} by ${Math.abs(offset)} s (measured inside: ${measured >= 0 ? '+' : ''}${measured} s)`,
    };
  },
};
