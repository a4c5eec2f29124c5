#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so `npx mlops-chaos` needs no build step.
import { tsImport } from 'tsx/esm/api';

const { main } = await tsImport('../src/cli.ts', import.meta.url);
// Exit explicitly: a kept stack's processes must not hold the CLI open.
process.exit(await main(process.argv.slice(2)));
