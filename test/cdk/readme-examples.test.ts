/**
 * The README's code blocks marked `<!-- example: <file> -->` are that file as printed (with the README's
 * `./lib/` imports): the file is what the tests synthesize (test/cdk/pipeline.test.ts), so the README's example
 * synthesizes as printed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Each marked block: the file it shows and the block's code. */
function markedExamples(markdown: string): { file: string; code: string }[] {
  const examples: { file: string; code: string }[] = [];
  const pattern = /<!-- example: (\S+) -->\n```ts\n([\s\S]*?)```/g;
  for (const match of markdown.matchAll(pattern))
    examples.push({ file: match[1] ?? '', code: match[2] ?? '' });
  return examples;
}

/** The file as the README prints it: without its first line's note, importing from `./lib/`. */
function asPrinted(file: string): string {
  const lines = readFileSync(file, 'utf8').replaceAll("'../../../lib/", "'./lib/").split('\n');
  if (lines[0]?.startsWith('// README')) lines.shift();
  return `${lines.join('\n').trimEnd()}\n`;
}

describe("the README's examples", () => {
  const examples = markedExamples(readFileSync('README.md', 'utf8'));

  it('mark the pipeline examples of both styles', () => {
    expect(examples.map((example) => example.file)).toEqual([
      'examples/pipeline/readme/codepipeline.ts',
      'examples/pipeline/readme/cdk-pipelines.ts',
    ]);
  });

  it.each(examples.map((example) => [example.file, example] as const))(
    'print %s exactly',
    (file, example) => {
      expect(existsSync(file), file).toBe(true);
      expect(example.code).toBe(asPrinted(file));
    },
  );
});
