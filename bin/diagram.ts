#!/usr/bin/env node
/**
 * Rewrites the workflow diagram in README.md from the synthesized state machine (`npm run diagram`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { definitionFromTemplate } from '../lib/asl.js';
import { mermaidOf, withDiagram } from '../lib/diagram.js';
import { synthesizeTemplate } from '../lib/stack.js';

const readme = readFileSync('README.md', 'utf8');
const diagram = mermaidOf(definitionFromTemplate(synthesizeTemplate()).definition);
const updated = withDiagram(readme, diagram);
if (updated === readme) {
  process.stdout.write('README.md: the workflow diagram is up to date.\n');
} else {
  writeFileSync('README.md', updated);
  process.stdout.write('README.md: the workflow diagram was rewritten from the synthesized definition.\n');
}
