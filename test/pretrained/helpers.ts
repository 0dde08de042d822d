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
