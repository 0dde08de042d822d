import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerConvert } from '../../src/cli/convert.js';
import { readBratDirectory } from '../../src/data/brat.js';
import { parseConll } from '../../src/data/conll.js';
import { parseJsonl } from '../../src/data/jsonl.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/data/${name}`, import.meta.url));

/** Run `medner convert ...` in-process; returns the exit code and what went to stderr. */
async function medner(...args: string[]): Promise<{ code: number; stderr: string }> {
  const program = new Command().exitOverride();
  registerConvert(program);
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'medner', 'convert', ...args]);
  } finally {
    spy.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, stderr: lines.join('\n') };
}

afterEach(() => {
  process.exitCode = 0;
});

describe('medner convert', () => {
  it('pubtator -> conll reproduces the published IOB sentences', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'medner-convert-')), 'out.conll');
    const { code } = await medner('--from', 'pubtator', '--to', 'conll', fixture('bc5cdr/sample.pubtator.txt'), out);
    expect(code).toBe(0);
    const converted = parseConll(await readFile(out, 'utf8')).map(({ tokens, tags }) => ({ tokens, tags }));
    expect(converted).toEqual(parseConll(await readFile(fixture('bc5cdr/sample.iob.tsv'), 'utf8')));
  });

  it('conll -> jsonl with BIOES (or its other name iobes), and brat -> conll reporting overlaps', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'medner-convert-'));
    expect((await medner('--from', 'conll', '--to', 'jsonl', '--scheme', 'BIOES', fixture('bc5cdr/sample.iob.tsv'), join(dir, 'a.jsonl'))).code).toBe(0);
    const sentences = parseJsonl(await readFile(join(dir, 'a.jsonl'), 'utf8'));
    expect(sentences[0]!.tags.slice(0, 3)).toEqual(['S-Chemical', 'O', 'O']);
    // iobes is another name for BIOES, accepted on the command line only; an unknown name is refused there.
    expect((await medner('--from', 'conll', '--to', 'jsonl', '--scheme', 'iobes', fixture('bc5cdr/sample.iob.tsv'), join(dir, 'alias.jsonl'))).code).toBe(0);
    expect(await readFile(join(dir, 'alias.jsonl'), 'utf8')).toBe(await readFile(join(dir, 'a.jsonl'), 'utf8'));
    await expect(medner('--from', 'conll', '--to', 'jsonl', '--scheme', 'bilu', fixture('bc5cdr/sample.iob.tsv'), join(dir, 'c.jsonl'))).rejects.toThrow(
      /option '--scheme <scheme>' argument 'bilu' is invalid\. unknown label scheme 'bilu' \(expected BIO or BIOES; iob2 is BIO, iobes is BIOES\)/,
    );
    const result = await medner('--from', 'brat', '--to', 'conll', fixture('brat'), join(dir, 'b.conll'));
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/14 entities read, 12 kept, 2 set aside \(2 overlapping \(kept the longest\)\); kept by rule: 1 discontinuous/);
    expect(await readFile(join(dir, 'b.conll'), 'utf8')).toContain('-DOCSTART-');
  });

  it('conll -> brat writes a .txt/.ann pair per document that reads back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'medner-convert-'));
    const input = join(dir, 'in.conll');
    await writeFile(input, '-DOCSTART- O\n\nAspirin\tB-Drug\ncauses\tO\nchest\tB-Symptom\npain\tI-Symptom\n\n');
    expect((await medner('--from', 'conll', '--to', 'brat', input, join(dir, 'out'))).code).toBe(0);
    const [doc] = await readBratDirectory(join(dir, 'out'));
    expect(doc!.entities.map((e) => doc!.text.slice(e.start, e.end))).toEqual(['Aspirin', 'chest pain']);
  });

  it('exits non-zero with a one-line message and leaves no output on bad input', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'medner-convert-'));
    const cases: [string, string | Buffer, string][] = [
      ['conll', 'a\tO\nb\n', ':2: missing tag column'],
      ['conll', Buffer.from([0x61, 0x09, 0x4f, 0x0a, 0xff, 0x0a]), 'invalid UTF-8 at byte offset 4'],
      ['pubtator', '1|t|Ab\n1|a|cd\n1\t0\t9\tAb\tDisease\tD1\n', ':3: offset 9 past the end'],
      ['jsonl', '{"tokens": ["a"], "tags": ["X"]}\n', ':1: malformed tag'],
    ];
    for (const [format, content, message] of cases) {
      const input = join(dir, `bad.${format}`);
      await writeFile(input, content);
      const output = join(dir, `out-${format}.txt`);
      const { code, stderr } = await medner('--from', format, '--to', 'jsonl', input, output);
      expect(code).toBe(1);
      expect(stderr).toContain(message);
      expect(stderr).toContain(input);
      expect(stderr.split('\n').length).toBe(1);
    }
    const bratDir = join(dir, 'brat');
    await mkdir(bratDir);
    await writeFile(join(bratDir, 'doc.txt'), 'text without annotations');
    const { code, stderr } = await medner('--from', 'brat', '--to', 'conll', bratDir, join(dir, 'out-brat.conll'));
    expect(code).toBe(1);
    expect(stderr).toContain('no annotation file doc.ann');
    expect((await readdir(dir)).filter((n) => n.startsWith('out') || n.includes('.tmp-'))).toEqual([]);
  });
});
