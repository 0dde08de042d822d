// Issue 18: `medner train --pretrained <dir>` takes the directory's native tokenizer files -- byte-level BPE
// (vocab.json + merges.txt, or a BPE tokenizer.json) and SentencePiece (spiece.model, or a Unigram
// tokenizer.json) -- not only WordPiece. Tiny vocabularies (<= 82 tokens, the fixtures' vocab_size) over
// the tiny RoBERTa and ALBERT encoders; the saved checkpoint reloads with the same tokenizer.

import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/index.js';
import { resolveConfig } from '../../src/train/config.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { loadPretrainedTokenizer } from '../../src/train/pretrained.js';
import { train } from '../../src/train/trainer.js';
import { scratchDir, smallConll, spieceModelBytes } from './helpers.js';

const scratches: { cleanup: () => void }[] = [];
afterAll(() => scratches.forEach((s) => s.cleanup()));
const corpusDir = scratchDir();
scratches.push(corpusDir);
const corpus = smallConll(corpusDir.dir, 8);

// A byte-level BPE vocabulary of 82 tokens: RoBERTa's specials, 'Ġ', letters, digits, punctuation, a few merges.
const letters = [...'abcdefghijklmnopqrstuvwxyz'];
const bpeMerges: [string, string][] = [['Ġ', 't'], ['h', 'e'], ['Ġt', 'he'], ['i', 'n'], ['Ġ', 'a'], ['e', 'r'], ['o', 'n'], ['Ġ', 'c'], ['a', 't'], ['e', 'd']];
const bpeVocab: Record<string, number> = {};
for (const token of ['<s>', '<pad>', '</s>', '<unk>', 'Ġ', ...letters, ...letters.map((l) => l.toUpperCase()), ...'0123456789', '.', ',', '-', '(', ')', ...bpeMerges.map(([a, b]) => a + b)]) {
  bpeVocab[token] ??= Object.keys(bpeVocab).length;
}

function bpeTokenizerJson() {
  return {
    version: '1.0',
    added_tokens: ['<s>', '<pad>', '</s>', '<unk>'].map((content) => ({ id: bpeVocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false },
    decoder: { type: 'ByteLevel' },
    model: { type: 'BPE', dropout: null, unk_token: null, vocab: bpeVocab, merges: bpeMerges.map(([a, b]) => `${a} ${b}`) },
  };
}

// A SentencePiece unigram model of 82 pieces, ALBERT's specials first, written as protobuf bytes.
const unigramPieces: [string, number, number][] = [
  ['<pad>', 0, 3], ['<unk>', 0, 2], ['[CLS]', 0, 3], ['[SEP]', 0, 3], ['[MASK]', 0, 4],
  ['▁', -2, 1], ['▁the', -3, 1], ['▁of', -3.5, 1], ['▁and', -3.5, 1], ['▁in', -3.6, 1], ['ing', -4, 1], ['ed', -4, 1], ['s', -3, 1],
  ...[...'abcdefghijklmnopqrstuvwxyz0123456789.,-()'].map((c, i): [string, number, number] => [c, -5 - i / 100, 1]),
];
while (unigramPieces.length < 82) unigramPieces.push([`▁w${unigramPieces.length}`, -9, 1]);

function unigramTokenizerJson() {
  return {
    version: '1.0',
    added_tokens: [0, 1, 2, 3, 4].map((id) => ({ id, content: unigramPieces[id]![0], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKD' }, { type: 'StripAccents' }, { type: 'Lowercase' }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Metaspace', replacement: '▁', add_prefix_space: true }] },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    model: { type: 'Unigram', unk_id: 1, vocab: unigramPieces.map(([piece, score]) => [piece, score]) },
  };
}

/** A copy of the tiny RoBERTa or ALBERT fixture with its vocab.txt replaced by other tokenizer files. */
function directoryWith(arch: 'roberta' | 'albert', files: Record<string, string | Uint8Array>): string {
  const scratch = scratchDir(arch);
  scratches.push(scratch);
  rmSync(join(scratch.dir, 'vocab.txt'));
  rmSync(join(scratch.dir, 'tokenizer_config.json'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(scratch.dir, name), content);
  return scratch.dir;
}

const KINDS = [
  { kind: 'vocab.json + merges.txt', arch: 'roberta', tokenizer: 'bpe', files: () => ({ 'vocab.json': JSON.stringify(bpeVocab), 'merges.txt': `#version: 0.2\n${bpeMerges.map((m) => m.join(' ')).join('\n')}\n` }) },
  { kind: 'BPE tokenizer.json', arch: 'roberta', tokenizer: 'bpe', files: () => ({ 'tokenizer.json': JSON.stringify(bpeTokenizerJson()) }) },
  { kind: 'spiece.model', arch: 'albert', tokenizer: 'unigram', files: () => ({ 'spiece.model': spieceModelBytes(unigramPieces) }) },
  { kind: 'Unigram tokenizer.json', arch: 'albert', tokenizer: 'unigram', files: () => ({ 'tokenizer.json': JSON.stringify(unigramTokenizerJson()) }) },
] as const;

const tiny = () => resolveConfig({ model: 'bert-crf', epochs: 1, batchSize: 8, constraints: 'decode', warmup: 0, schedule: 'constant', maxLength: 30, encoderLr: 1e-3, lr: 1e-2 }, 'test');

describe('fine-tuning with each tokenizer file kind', () => {
  it.each(KINDS)('$kind: train() uses it, and the checkpoint reloads the same tokenizer', async ({ arch, tokenizer: kind, files }) => {
    const dir = directoryWith(arch, files());
    const tokenizer = await loadPretrainedTokenizer(dir);
    expect(tokenizer.kind).toBe(kind);
    const words = ['Cisplatin', 'induced', 'nephrotoxicity', 'in', 'the', 'rats', '.'];
    const encoding = tokenizer.encodeWords(words);
    expect(encoding.ids[0]).toBe(arch === 'roberta' ? 0 : 2);
    expect(new Set(encoding.wordIds.filter((w) => w !== null))).toEqual(new Set(words.map((_, i) => i)));

    const out = join(corpusDir.dir, `run-${kind}-${Object.keys(files())[0]}`);
    const result = await train({ config: tiny(), train: corpus, dev: corpus, out, backend: cpuBackend, pretrained: dir, log: () => undefined, progress: false });
    expect(Number.isFinite(result.history[0]!.trainLoss)).toBe(true);
    const loaded = await loadCheckpoint(out, cpuBackend);
    expect(loaded.encoder.kind).toBe('subwords');
    const reloaded = (loaded.encoder as unknown as { tokenizer: typeof tokenizer }).tokenizer;
    expect(reloaded.kind).toBe(kind);
    expect(reloaded.encodeWords(words).ids).toEqual(encoding.ids);
    loaded.model.dispose();
  });

  it('the CLI fine-tunes from vocab.json + merges.txt', () => {
    const dir = directoryWith('roberta', KINDS[0].files());
    const out = join(corpusDir.dir, 'cli-bpe');
    const run = spawnSync(process.execPath, ['src/cli/bin.js', 'train', '--pretrained', dir, '--model', 'bert-crf', '--train', corpus, '--epochs', '1', '--batch-size', '8', '--max-length', '30', '--constraints', 'decode', '--out', out, '--no-progress'], { encoding: 'utf8' });
    expect(run.stderr).not.toMatch(/medner:/);
    expect(run.status).toBe(0);
    expect(run.stdout + run.stderr).toMatch(/pretrained roberta: loaded \d+ encoder tensors/);
  });
});
