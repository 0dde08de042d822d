// A tiny BiLSTM-CRF trained once on the BC5CDR fixture (two PubMed abstracts) until it tags their chemicals
// and diseases: enough to check what predict writes around its entities. Also an in-process `medner`.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { cpuBackend } from '../../src/backend/registry.js';
import { resolveConfig } from '../../src/train/config.js';
import { train } from '../../src/train/trainer.js';
import { registerPredict } from '../../src/cli/predict.js';
import { registerConvert } from '../../src/cli/convert.js';
import { registerEval } from '../../src/cli/eval.js';
import { registerTrain } from '../../src/cli/train.js';
import { registerExport } from '../../src/cli/export.js';

export const BC5CDR_IOB = 'test/fixtures/data/bc5cdr/sample.iob.tsv';
export const BC5CDR_PUBTATOR = 'test/fixtures/data/bc5cdr/sample.pubtator.txt';

export const scratch = (prefix = 'medner-interop-') => mkdtempSync(join(tmpdir(), prefix));

let trained: Promise<string> | null = null;

/** Output directory of a small model that has learned the fixture's entities (trained once per test file). */
export function trainedModel(): Promise<string> {
  trained ??= (async () => {
    const out = join(scratch(), 'run');
    const config = resolveConfig({ epochs: 25, batchSize: 4, wordDim: 16, charDim: 8, charFilters: 8, lstmHidden: 16, lr: 0.02, dropout: 0.1, patience: 20 }, 'test');
    await train({ config, train: BC5CDR_IOB, out, backend: cpuBackend, log: () => undefined, progress: false });
    return out;
  })();
  return trained;
}

/** Run `medner <args>` in-process; resolves with what it printed, rejects with the command's error. */
export async function medner(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerTrain(program);
  registerEval(program);
  registerPredict(program);
  registerConvert(program);
  registerExport(program);
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const log = console.log;
  process.stdout.write = ((chunk: string | Uint8Array) => (chunks.push(String(chunk)), true)) as typeof process.stdout.write;
  console.log = (...parts: unknown[]) => void chunks.push(parts.join(' ') + '\n');
  try {
    await program.parseAsync(['node', 'medner', ...args]);
  } finally {
    process.stdout.write = write;
    console.log = log;
  }
  return chunks.join('');
}

/** A string's code points as an array, so [start, end) code-point offsets slice as Python slices. */
export const codePoints = (s: string) => [...s];
export const sliceCodePoints = (s: string, start: number, end: number) => [...s].slice(start, end).join('');
