#!/usr/bin/env node
/**
 * The example release pipeline: `npx cdk synth --app "npx tsx examples/pipeline/main.ts"`. Set the context
 * `connectionArn`, `repository` (owner/name), `account` and `region` to yours, and the database keys of cdk.json.
 */
import { buildPipelineApp } from './pipeline-app.js';

buildPipelineApp({ bundle: true });
