// Shared by the pretrained-checkpoint tests: the four tiny Hugging Face model directories written
// by tools/reference/make_hf_fixtures.py, their expected hidden states, and scratch directories.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tensor, type Tensor } from '../../src/index.js';
import type { EncoderType } from '../../src/io/hf-config.js';

export const ARCHITECTURES: EncoderType[] = ['bert', 'roberta', 'distilbert', 'albert', 'modernbert', 'gpt_neo'];

export const fixtureDir = (arch: EncoderType): string => fileURLToPath(new URL(`../fixtures/hf/${arch}`, import.meta.url));

export interface Expected {
  words: string[][];
  inputIds: number[][];
  attentionMask: number[][];
  tokenTypeIds: number[][] | null;
  lastHiddenState: { shape: [number, number, number]; data: number[] };
}

export function loadExpected(arch: EncoderType): Expected {
  return JSON.parse(readFileSync(join(fixtureDir(arch), 'expected.json'), 'utf8')) as Expected;
}

export function ids2d(rows: number[][]): Tensor {
  return tensor(Int32Array.from(rows.flat()), [rows.length, rows[0]!.length], { dtype: 'i32' });
}

export function mask2d(rows: number[][]): Tensor {
  return tensor(Float32Array.from(rows.flat()), [rows.length, rows[0]!.length]);
}

export function maxAbsError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  return worst;
}

/** A scratch copy of a fixture directory (or an empty one); remove it with cleanup(). */
export function scratchDir(from?: EncoderType): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'medner-pretrained-'));
  if (from) cpSync(fixtureDir(from), dir, { recursive: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The first `count` sentences of a CoNLL fixture, as a file in `dir`. */
export function smallConll(dir: string, count: number): string {
  const text = readFileSync(fileURLToPath(new URL('../fixtures/data/ncbi-disease/sample.iob.tsv', import.meta.url)), 'utf8');
  const sentences = text.trim().split(/\n\s*\n/).slice(0, count);
  const path = join(dir, 'train.tsv');
  writeFileSync(path, sentences.join('\n\n') + '\n');
  return path;
}

/**
 * A SentencePiece model file (spiece.model, the ModelProto protobuf) of unigram `pieces` [piece, score, type]
 * (type: 1 normal, 2 unknown, 3 control, 4 user-defined), with trainer_spec { model_type UNIGRAM, unk_id }.
 */
export function spieceModelBytes(pieces: readonly (readonly [string, number, number])[], unkId = 1): Uint8Array {
  const varint = (value: number): number[] => {
    const out: number[] = [];
    for (; value >= 0x80; value = Math.floor(value / 128)) out.push((value & 0x7f) | 0x80);
    return [...out, value];
  };
  const field = (number: number, bytes: number[]) => [...varint(number * 8 + 2), ...varint(bytes.length), ...bytes];
  const bytes: number[] = [];
  for (const [piece, score, type] of pieces) {
    // SentencePiece { piece = 1 (string), score = 2 (float, fixed32), type = 3 (enum) }
    bytes.push(...field(1, [...field(1, [...new TextEncoder().encode(piece)]), 2 * 8 + 5, ...new Uint8Array(new Float32Array([score]).buffer), 3 * 8, ...varint(type)]));
  }
  bytes.push(...field(2, [3 * 8, 1, ...varint(40 * 8), ...varint(unkId)]));
  return Uint8Array.from(bytes);
}
