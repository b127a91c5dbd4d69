import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { definitionFromTemplate } from '../../lib/asl.js';
import { DIAGRAM_END, DIAGRAM_START, mermaidOf, withDiagram } from '../../lib/diagram.js';
import { synthesize } from './support.js';

describe("the README's workflow diagram", () => {
  it('is the one written from the synthesized definition (run `npm run diagram` after changing the workflow)', () => {
    // Prepare
    const readme = readFileSync('README.md', 'utf8');
    const diagram = mermaidOf(definitionFromTemplate(synthesize().json).definition);

    // Assess
    expect(withDiagram(readme, diagram)).toBe(readme);
  });

  it('draws every state and every Next, Choice and Catch edge of the definition', () => {
    const { definition } = definitionFromTemplate(synthesize().json);
    const diagram = mermaidOf(definition);
    for (const [name, state] of Object.entries(definition.States)) {
      expect(diagram, name).toContain(
        `"${state.Type === 'Fail' ? 'Fail: ' : state.Type === 'Succeed' ? 'Succeed: ' : ''}${name}"`,
      );
    }
    const edgeCount = diagram.split('\n').filter((line) => / (-->|\.->) /.test(line)).length;
    const expected = Object.values(definition.States).reduce(
      (sum, state) =>
        sum +
        (state.Next ? 1 : 0) +
        (state.Default ? 1 : 0) +
        (state.Choices?.length ?? 0) +
        (state.Catch?.length ?? 0),
      0,
    );
    expect(edgeCount).toBe(expected);
  });

  it('fails loudly when the README has no diagram block', () => {
    expect(() => withDiagram('# no block', 'flowchart TD')).toThrow(
      `add the lines ${DIAGRAM_START} and ${DIAGRAM_END}`,
    );
  });
});
