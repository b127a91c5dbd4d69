/**
 * The README's code blocks marked `<!-- example: <file> -->` are that file as printed (with the README's
 * `./lib/` imports): the file is what the tests synthesize (here, and the pipelines in test/cdk/pipeline.test.ts),
 * so the README's examples synthesize as printed.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
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
  const lines = readFileSync(file, 'utf8')
    .replace(/'(?:\.\.\/)+lib\//g, "'./lib/")
    .split('\n');
  if (lines[0]?.startsWith('// README')) lines.shift();
  return `${lines.join('\n').trimEnd()}\n`;
}

describe("the README's examples", () => {
  const examples = markedExamples(readFileSync('README.md', 'utf8'));

  it('mark the AWS example and the pipeline examples of both styles', () => {
    expect(examples.map((example) => example.file)).toEqual([
      'examples/readme/orchestrator.ts',
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

describe('the README\'s "Using it on AWS" example', { timeout: 180_000 }, () => {
  it('synthesizes offline, without lookups, into the orchestrator stack', async () => {
    // Prepare: no bundling of the functions (the example builds a plain `new App()`).
    const previous = process.env.CDK_CONTEXT_JSON;
    process.env.CDK_CONTEXT_JSON = JSON.stringify({ 'aws:cdk:bundling-stacks': [] });
    try {
      // Act
      const { app } = (await import('../../examples/readme/orchestrator.js')) as { app: App };
      const assembly = app.synth();
      // Assess
      const stack = assembly.getStackByName('Migrations');
      const template = Template.fromJSON(stack.template as Record<string, unknown>);
      // The workflow and its migrate entry.
      template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
      const errors = Object.values(stack.manifest.metadata ?? {})
        .flat()
        .filter((entry) => entry.type === 'aws:cdk:error');
      expect(errors).toEqual([]);
    } finally {
      if (previous === undefined) delete process.env.CDK_CONTEXT_JSON;
      else process.env.CDK_CONTEXT_JSON = previous;
    }
  });
});
