import { CONTAINER_TARGETS, containerOf } from './container.ts';
import type { FaultModule } from './types.ts';

const MiB = 1024 ** 2;
const FILLER = '.chaos-filler';

/**
 * The component's data filesystem (a fixed-size volume: PostgreSQL's data dir, SeaweedFS's volume
 * dir) filled to its last block by one preallocated file, as a disk fills under a growing table or
 * bucket. What do writes return, and is anything acknowledged that was not kept? Revert deletes the
 * file. The note gives the free space before and after, as `df` inside the container reports it.
 */
export const diskFull: FaultModule = {
  type: 'disk-full',
  on: 'process',
  onlyOn: CONTAINER_TARGETS,
  targets: ['postgres', 'seaweedfs'],
  description: "the component's size-limited data filesystem is filled until revert",
  params: {
    // SeaweedFS does not take writes again by itself once a write failed on a full disk (its
    // volumes stay read-only): left alone it stays broken for every experiment after this one.
    restart: { doc: 'restart the component after freeing the space, as an operator would (1), or leave it to recover by itself (0)', min: 0, max: 1, default: 1 },
  },
  async inject(stack, target, p) {
    const { c, name } = containerOf(stack, 'disk-full', target);
    const fs = c.dataFs(name);
    if ('unavailable' in fs) throw new Error(`disk-full: ${name} has no size-limited filesystem on this stack (${fs.unavailable})`);
    const free = async () => Number((await c.exec(name, ['df', '--output=avail', '-B1', fs.path])).trim().split('\n').at(-1));
    const before = await free();
    const filler = `${fs.path}/${FILLER}`;
    // ext4 needs blocks for the file's own extent tree, so preallocating all that df reports
    // fails: preallocate all but 8 MiB, then write zeros into the rest until the kernel refuses.
    if (before > 8 * MiB) await c.exec(name, ['fallocate', '-l', String(before - 8 * MiB), filler]);
    await c.exec(name, ['sh', '-c', `dd if=/dev/zero of=${filler}.tail bs=4k 2>/dev/null; true`]);
    const after = await free();
    // It acted only if the filesystem itself now says it is full (less than one MiB left).
    if (after > MiB) throw new Error(`disk-full: ${fs.path} in ${name} still has ${after} bytes free after the fill`);
    return {
      undo: async () => {
        await c.exec(name, ['rm', '-f', filler, `${filler}.tail`]);
        if ((p.restart ?? 1) === 1) await stack.process(name).restart();
      },
      persisted: { kind: 'none' }, // the filler lives on the stack's own volume, removed with it
      note: `${fs.path} in ${name} (${fs.sizeMB} MiB) filled: ${(before / MiB).toFixed(0)} MiB free before, ${(after / 1024).toFixed(0)} KiB after; at revert the space is freed${(p.restart ?? 1) === 1 ? ` and ${name} restarted` : ''}`,
    };
  },
};
