// Bounded resources on hostile input, CI-sized (the full sizes: `npx tsx tools/hostile-inputs.ts`, figures in
// the README): every case finishes, or stops with a one-line error naming the line, with the V8 heap capped and
// the peak RSS measured. Also `predict --skip-invalid` on malformed JSONL lines.

import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/backend/registry.js';
import { resolveConfig } from '../../src/train/config.js';
import { train } from '../../src/train/trainer.js';
import { longSentenceCorpus, runMedner, TINY_MODEL, writeOneTokenPerLine, writeSingleLineText } from '../../tools/hostile-inputs.js';

const dir = mkdtempSync(join(tmpdir(), 'medner-hostile-'));
const model = join(dir, 'model');
/** Heap cap of every run: an input held whole (or an endless sentence) would die here instead of passing. */
const HEAP_MIB = 256;

beforeAll(async () => {
  await train({ config: resolveConfig(TINY_MODEL, 'test'), train: 'test/fixtures/data/bc5cdr/sample.iob.tsv', out: model, backend: cpuBackend, log: () => undefined, progress: false });
}, 120_000);

describe('hostile inputs', () => {
  it('convert streams a 16 MB one-token-per-line file in bounded memory', async () => {
    const input = join(dir, 'tokens.conll');
    writeOneTokenPerLine(input, 16 << 20, 20);
    const run = await runMedner(['convert', '--from', 'conll', '--to', 'jsonl', input, join(dir, 'tokens.jsonl')], HEAP_MIB);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/converted \d+ document\(s\), \d+ sentence\(s\); [\d,]+ entities read, [\d,]+ kept, 0 set aside/);
    console.log(`convert 16 MB: ${run.seconds.toFixed(1)} s, peak RSS ${run.peakMiB} MiB`);
  }, 300_000);

  it('convert stops at a sentence of more than 1,000,000 tokens (no blank lines) with the line, and writes nothing', async () => {
    const input = join(dir, 'endless.conll');
    writeOneTokenPerLine(input, 16 << 20, 0);
    const output = join(dir, 'endless.jsonl');
    const run = await runMedner(['convert', '--from', 'conll', '--to', 'jsonl', input, output], HEAP_MIB);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(`medner convert: ${input}:1000001: the sentence that starts on line 1 has more than 1,000,000 tokens (a missing blank line between sentences?)`);
    expect(existsSync(output)).toBe(false);
    console.log(`convert endless sentence: ${run.seconds.toFixed(1)} s, peak RSS ${run.peakMiB} MiB`);
  }, 300_000);

  it('predict tags a 1 MB single-line text with no sentence end in bounded memory', async () => {
    const input = join(dir, 'one-line.txt');
    writeSingleLineText(input, 1 << 20);
    const out = join(dir, 'one-line.jsonl');
    const run = await runMedner(['predict', '--model', model, '--input', input, '--out', out], HEAP_MIB);
    expect(run.code, run.stderr).toBe(0);
    const record = JSON.parse(readFileSync(out, 'utf8')) as { text: string; entities: unknown[] };
    expect(record.text).toBe(readFileSync(input, 'utf8'));
    console.log(`predict 1 MB line: ${run.seconds.toFixed(1)} s, peak RSS ${run.peakMiB} MiB, ${record.entities.length} entities`);
  }, 300_000);

  it('train finishes on a corpus with a 20,000-word sentence', async () => {
    const corpus = join(dir, 'long.tsv');
    writeFileSync(corpus, longSentenceCorpus(20_000));
    writeFileSync(join(dir, 'tiny.json'), JSON.stringify(TINY_MODEL));
    const run = await runMedner(['train', '--train', corpus, '--config', join(dir, 'tiny.json'), '--out', join(dir, 'long-run'), '--no-progress'], HEAP_MIB);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/train: 21 sentences, 20,?100 tokens/);
    console.log(`train 20,000-word sentence: ${run.seconds.toFixed(1)} s, peak RSS ${run.peakMiB} MiB`);
  }, 300_000);

  it('predict reports a malformed JSONL line by number, or with --skip-invalid skips it and counts', async () => {
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, ['{"text": "Aspirin causes pain."}', '{"text": "broken', '{"tokens": [1, 2]}', '', '{"id": "d4", "text": "Heparin."}'].join('\n') + '\n');
    const out = join(dir, 'pred.jsonl');
    const strict = await runMedner(['predict', '--model', model, '--input', input, '--out', out], HEAP_MIB);
    expect(strict.code).toBe(1);
    expect(strict.stderr.trim()).toMatch(new RegExp(`^medner: ${input.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: invalid JSON`));
    expect(existsSync(out)).toBe(false);
    const lenient = await runMedner(['predict', '--model', model, '--input', input, '--out', out, '--skip-invalid'], HEAP_MIB);
    expect(lenient.code, lenient.stderr).toBe(0);
    expect(lenient.stderr).toContain(`skipped 2 invalid lines of ${input} (lines 2, 3)`);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(2);
  }, 300_000);
});
