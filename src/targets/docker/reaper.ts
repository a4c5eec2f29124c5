import { ownerAlive } from '../local/proc.ts';
import type { Reaped } from '../local/reaper.ts';
import { docker, engineVersion, LABEL_KEPT, LABEL_OWNER, LABEL_STACK, listLabelled } from './engine.ts';


/** The stack's labels on one object: `stack owner kept`, tab-separated. */
async function labelsOf(kind: 'container' | 'network' | 'volume', id: string): Promise<{ stack: string; owner: string; kept: boolean } | undefined> {
  const labels = kind === 'container' ? '.Config.Labels' : '.Labels';
  const fmt = [LABEL_STACK, LABEL_OWNER, LABEL_KEPT].map((l) => `{{index ${labels} "${l}"}}`).join('\t');
  const out = await docker([kind === 'container' ? 'container' : kind, 'inspect', '--format', fmt, id]).catch(() => '');
  const [stack, owner, kept] = out.trim().split('\t');
  return stack ? { stack, owner: owner ?? '', kept: kept === 'true' } : undefined;
}

/**
 * Removes every container, network and volume labelled with a stack whose runner is gone (a
 * SIGKILLed run, a crash) or, with `includeKept`, that `stack up` kept. testcontainers' own
 * reaper (Ryuk) is an image that cannot be pulled here, so this is the only one.
 */
export async function reapDocker(opts: { includeKept?: boolean } = {}): Promise<Reaped[]> {
  // Without an engine there is nothing a docker stack could have left.
  if (!engineVersion()) return [];
  const byStack = new Map<string, { containers: string[]; networks: string[]; volumes: string[] }>();
  for (const kind of ['container', 'network', 'volume'] as const) {
    for (const id of await listLabelled(kind, LABEL_STACK)) {
      const l = await labelsOf(kind, id);
      if (!l) continue;
      if (ownerAlive(l.owner) && !l.kept) continue;
      if (l.kept && !opts.includeKept) continue;
      const entry = byStack.get(l.stack) ?? { containers: [], networks: [], volumes: [] };
      entry[`${kind}s`].push(id);
      byStack.set(l.stack, entry);
    }
  }
  const out: Reaped[] = [];
  for (const [stackId, e] of byStack) {
    const names = e.containers.length ? (await docker(['inspect', '--format', '{{.Name}}', ...e.containers]).catch(() => '')).split('\n').map((n) => n.trim().replace(/^\//, '')).filter(Boolean) : [];
    if (e.containers.length) await docker(['rm', '--force', '--volumes', ...e.containers]);
    if (e.networks.length) await docker(['network', 'rm', ...e.networks]);
    if (e.volumes.length) await docker(['volume', 'rm', '--force', ...e.volumes]);
    out.push({
      stackId,
      processes: [],
      faults: [],
      dirs: [],
      docker: [...names.map((n) => `container ${n}`), ...e.networks.map((n) => `network ${n.slice(0, 12)}`), ...e.volumes.map((v) => `volume ${v.slice(0, 12)}`)],
    });
  }
  return out;
}
