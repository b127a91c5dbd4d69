#!/usr/bin/env node
// The package's command (package.json "bin"): the CLI is TypeScript, run through tsx's loader, registered here
// so that `npx prisma-migration-orchestrator ...` needs no build step. bin/cli.ts sets the exit code.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
