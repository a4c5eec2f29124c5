import { join } from 'node:path';
import { envoyBinary } from '../../mesh/envoy-binary.ts';
import { freePorts, LOOPBACK } from '../../util/ports.ts';
import type { SidecarHost, SidecarPlacement } from '../stack.ts';
import type { StackContext } from './context.ts';

/**
 * A sidecar as a process of the stack on this machine, on loopback: beside the harness's clients
 * on every target, and beside the servers where they are processes too (local). Started through
 * the stack's context, so it is in the stack's record and the reaper ends it after a crash.
 */
export async function processPlacement(ctx: StackContext, name: string): Promise<SidecarPlacement> {
  const [port, admin] = await freePorts(2);
  return {
    listen: { host: LOOPBACK, port: port! },
    admin: { host: LOOPBACK, port: admin! },
    reachableAt: `${LOOPBACK}:${port}`,
    adminUrl: `http://${LOOPBACK}:${admin}`,
    // The config's files are on this machine already: `dirs` needs no mounting.
    start: async (envoy, args) => {
      const proc = ctx.start({ name, command: envoyBinary(envoy), args, env: { PATH: process.env.PATH } });
      return {
        failOnExit: () => proc.failOnExit(),
        logTail: (lines) => proc.logTail(lines),
        stop: async () => {
          await proc.stop();
          ctx.forget(name);
        },
      };
    },
  };
}

/** Where in a stack's work dir its sidecars keep their files (kind mounts it into its nodes). */
export const SIDECARS_DIR = 'sidecars';

/** The local target's sidecars: processes on both sides. */
export function processSidecarHost(ctx: StackContext): SidecarHost {
  return {
    dir: (name) => ctx.dir(join(SIDECARS_DIR, name)),
    besideClient: (name) => processPlacement(ctx, name),
    besideServer: (name) => processPlacement(ctx, name),
  };
}
