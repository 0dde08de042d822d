// Issue 18, item 4: `medner train --pretrained` -> eval -> predict -> export --format hf on tiny BERT and
// DistilBERT directories (vocab.txt, the committed fixtures), and on GPT-Neo, RoBERTa and ALBERT
// directories that carry their architecture's native tokenizer files: GPT-2's real
// vocab.json + merges.txt (GPT-Neo's tokenizer, test/fixtures/tokenizers/gpt2); the same vocabulary in
// RoBERTa's layout (<s> <pad> </s> <unk> first, <mask> last, as roberta-base's is laid out); and a small
// SentencePiece spiece.model written here as protobuf bytes (ALBERT). Each with a small encoder of that
// vocabulary's size (weights made by tiny-dir.ts). The saved model and its export tokenize the same.
// ModernBERT's (a BPE tokenizer.json) is test/modernbert/finetune.test.ts: its 50,368-row table is built there.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/index.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { loadPretrainedTokenizer } from '../../src/train/pretrained.js';
import { medner } from '../interop/helpers.js';
import { fixtureDir, scratchDir, smallConll, spieceModelBytes } from './helpers.js';
import { tinyHfDirectory } from './tiny-dir.js';

const scratch = scratchDir();
afterAll(() => scratch.cleanup());
const corpus = smallConll(scratch.dir, 8);
const tokenizers = (name: string) => fileURLToPath(new URL(`../fixtures/tokenizers/${name}`, import.meta.url));
const TEXT = 'Cisplatin induced nephrotoxicity in the patient.';

/** GPT-2's vocabulary in RoBERTa's layout: <s>=0 <pad>=1 </s>=2 <unk>=3, GPT-2's tokens after them, <mask> last; same merges. */
function robertaTokenizer(): string {
  const dir = join(scratch.dir, 'roberta-tokenizer');
  mkdirSync(dir, { recursive: true });
  const gpt2 = JSON.parse(readFileSync(join(tokenizers('gpt2'), 'vocab.json'), 'utf8')) as Record<string, number>;
  const tokens = ['<s>', '<pad>', '</s>', '<unk>', ...Object.keys(gpt2).sort((a, b) => gpt2[a]! - gpt2[b]!).filter((t) => t !== '<|endoftext|>'), '<mask>'];
  const vocab = Object.fromEntries(tokens.map((token, id) => [token, id]));
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(join(dir, 'merges.txt'), readFileSync(join(tokenizers('gpt2'), 'merges.txt')));
  return dir;
}

/** A SentencePiece unigram model as ALBERT ships it (spiece.model: ModelProto protobuf): <pad> <unk> [CLS] [SEP] [MASK], then pieces. */
function albertTokenizer(): string {
  const dir = join(scratch.dir, 'albert-tokenizer');
  mkdirSync(dir, { recursive: true });
  const pieces: [string, number, number][] = [['<pad>', 0, 3], ['<unk>', 0, 2], ['[CLS]', 0, 3], ['[SEP]', 0, 3], ['[MASK]', 0, 4]]; // [piece, score, type]
  for (const word of ['the', 'patient', 'induced', 'in', 'of', 'and', 'with', 'cancer', 'disease', 'ing', 'ed', 'tion', 'al']) pieces.push([`▁${word}`, -3 - pieces.length / 100, 1], [word, -6, 1]);
  pieces.push(['▁', -2, 1]);
  for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789.,-()') pieces.push([c, -8, 1]);
  writeFileSync(join(dir, 'spiece.model'), spieceModelBytes(pieces));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true, keep_accents: false, tokenizer_class: 'AlbertTokenizer' }));
  return dir;
}

type Case = { arch: string; kind: 'wordpiece' | 'bpe' | 'unigram'; files: string[] } & ({ tokenizer: () => string; config: Record<string, unknown> } | { fixture: true });
const CASES: Case[] = [
  { arch: 'bert', kind: 'wordpiece', files: ['vocab.txt', 'tokenizer_config.json'], fixture: true },
  { arch: 'distilbert', kind: 'wordpiece', files: ['vocab.txt', 'tokenizer_config.json'], fixture: true },
  {
    arch: 'gpt_neo',
    kind: 'bpe',
    tokenizer: () => tokenizers('gpt2'),
    files: ['vocab.json', 'merges.txt'],
    config: {
      model_type: 'gpt_neo', vocab_size: 50257, hidden_size: 16, num_layers: 2, num_heads: 2, intermediate_size: 32,
      attention_types: [[['global', 'local'], 1]], window_size: 4, max_position_embeddings: 64, bos_token_id: 50256, eos_token_id: 50256,
    },
  },
  {
    arch: 'roberta',
    kind: 'bpe',
    tokenizer: robertaTokenizer,
    files: ['vocab.json', 'merges.txt'],
    config: {
      model_type: 'roberta', vocab_size: 50261, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32,
      max_position_embeddings: 66, type_vocab_size: 1, layer_norm_eps: 1e-5, pad_token_id: 1, bos_token_id: 0, eos_token_id: 2,
    },
  },
  {
    arch: 'albert',
    kind: 'unigram',
    tokenizer: albertTokenizer,
    files: ['spiece.model', 'tokenizer_config.json'],
    config: {
      model_type: 'albert', vocab_size: 73, embedding_size: 8, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32,
      max_position_embeddings: 64, pad_token_id: 0, bos_token_id: 2, eos_token_id: 3,
    },
  },
];

describe('fine-tuning from directories with their native tokenizer files', () => {
  it.each(CASES)('$arch ($files): train --pretrained -> eval -> predict -> export', async (c) => {
    const { arch, kind, files } = c;
    const dir = 'fixture' in c ? fixtureDir(arch as 'bert') : await tinyHfDirectory(join(scratch.dir, arch), c.config, c.tokenizer(), files);
    for (const file of files) expect(readFileSync(join(dir, file)).length).toBeGreaterThan(0);
    const out = join(scratch.dir, `run-${arch}`);
    const log = await medner('train', '--pretrained', dir, '--model', 'bert-bilstm-crf', '--train', corpus, '--epochs', '1', '--batch-size', '4',
      '--encoder-lr', '0.001', '--lr', '0.01', '--constraints', 'decode', '--out', out, '--no-progress');
    expect(log).toMatch(new RegExp(`pretrained ${arch}: loaded \\d+ encoder tensors from ${dir}`));
    expect(JSON.parse(readFileSync(join(out, 'best', 'config.json'), 'utf8')).bert.model_type).toBe(arch);
    const scores = JSON.parse(await medner('eval', '--model', out, '--data', corpus, '--json'));
    expect(scores.sentences).toBe(8);
    const line = JSON.parse(await medner('predict', '--model', out, TEXT));
    expect(line.text).toBe(TEXT);
    expect(Array.isArray(line.entities)).toBe(true);
    for (const e of line.entities as { start: number; end: number; text: string }[]) expect(TEXT.slice(e.start, e.end)).toBe(e.text);

    // The saved model tokenizes as Hugging Face does for is_split_into_words: GPT-2 adds no special
    // tokens, and every word reads as a word after a space (Ġ), so 'the patient' is Ġthe Ġpatient.
    if (arch === 'gpt_neo') {
      const vocab = JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as Record<string, number>;
      const loaded = await loadCheckpoint(out, cpuBackend);
      const { batch } = loaded.encoder.encode([{ tokens: ['the', 'patient'], tags: ['O', 'O'] }], null, cpuBackend);
      expect(Array.from(batch.subwordIds!.dataSync())).toEqual([vocab['Ġthe'], vocab['Ġpatient']]);
      loaded.model.dispose();
    }

    // export --format hf carries the same tokenizer (as tokenizer.json or the original files), and the export predicts the same.
    const hf = join(scratch.dir, `hf-${arch}`);
    await medner('export', '--model', out, '--format', 'hf', '--out', hf);
    const words = ['Cisplatin', 'induced', 'nephrotoxicity', '.'];
    const [original, exported] = await Promise.all([loadPretrainedTokenizer(dir), loadPretrainedTokenizer(hf)]);
    expect(original.kind).toBe(kind);
    expect(exported.kind).toBe(original.kind);
    expect(exported.encodeWords(words).ids).toEqual(original.encodeWords(words).ids);
    expect(JSON.parse(await medner('predict', '--model', hf, TEXT))).toEqual(line);
  }, 180_000);
});
