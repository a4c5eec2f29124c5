import { LocalStack } from './targets/local/local-stack.ts';
import { describeReaped, reapStale } from './targets/local/reaper.ts';

const USAGE = `usage:
  mlops-chaos stack up [--foreground]   start the local stack; print endpoints and edges.
                                        Without --foreground it keeps running until 'stack down';
                                        with it, it runs until Ctrl-C and then tears down.
  mlops-chaos stack down                stop every kept stack and reap what crashed runs left
  mlops-chaos reap                      reap what crashed runs left (processes, toxics, temp dirs)
`;

function printStack(stack: LocalStack): void {
  const lines = [
    `stack ${stack.id} (local) ready; work dir ${stack.workDir}`,
    'endpoints (clients go through their edges):',
    ...Object.entries(stack.endpoints).map(([k, v]) => `  ${k.padEnd(14)} ${v}`),
    'edges (Toxiproxy proxies; a fault acts here):',
    ...Object.values(stack.edges).map((e) => `  ${e.name.padEnd(24)} ${e.listen} -> ${e.upstream}  (proxy ${e.proxy})`),
    `toxiproxy API  ${stack.toxiproxy.apiUrl}`,
    'processes:',
    ...stack.pids.map((p) => `  ${p.name.padEnd(16)} pid ${p.pid}`),
    `reference model ${stack.reference.modelUri} (v${stack.reference.version}) at ${stack.reference.s3Uri}`,
    `versions ${Object.entries(stack.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function stackUp(foreground: boolean): Promise<number> {
  const stack = await LocalStack.start({ keep: !foreground });
  printStack(stack);
  if (!foreground) {
    process.stdout.write("kept running; stop it with 'npm run stack:down'\n");
    return 0;
  }
  process.stdout.write('running; Ctrl-C stops it\n');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await stack[Symbol.asyncDispose]();
  return 0;
}

async function reap(includeKept: boolean): Promise<number> {
  const reaped = await reapStale({ includeKept });
  for (const r of reaped) process.stdout.write(`${describeReaped(r)}\n`);
  if (reaped.length === 0) process.stdout.write('nothing to reap\n');
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  try {
    if (cmd === 'stack' && sub === 'up') return await stackUp(rest.includes('--foreground'));
    if (cmd === 'stack' && sub === 'down') return await reap(true);
    if (cmd === 'reap') return await reap(false);
    process.stderr.write(USAGE);
    return 2;
  } catch (err) {
    process.stderr.write(`mlops-chaos: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
