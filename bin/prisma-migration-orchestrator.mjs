#!/usr/bin/env node
// The package's command (package.json "bin", and `npm start`): runs the CLI compiled to JavaScript, compiling it
// first when bin/, lib/ or lambdas/ changed since the last build (bin/build-cli.mjs): a build of other sources
// is never run. esbuild comes with tsx, a dependency. bin/cli.ts sets the exit code.
import { pathToFileURL } from 'node:url';
import { compiledCli } from './build-cli.mjs';

await import(pathToFileURL(await compiledCli()).href);
