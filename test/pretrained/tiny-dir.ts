// A tiny Hugging Face model directory built at test time around a real tokenizer: the tokenizer's own
// files (vocab.json + merges.txt, spiece.model, ...) copied in, a config.json for a small encoder whose
// vocab_size is the tokenizer's, and model.safetensors with that encoder's seeded initial weights
// under Hugging Face's names (with the model prefix a checkpoint carries: roberta., albert., transformer.).
// Real tokenizer files are large (50k-token vocabularies), so the weights are made here rather than
// committed; what is tested is the path from such a directory through the CLI.

import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuBackend, manualSeed, setBackend } from '../../src/index.js';
import { parseHfConfig } from '../../src/io/hf-config.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { createEncoder } from '../../src/nn/encoders.js';
import { MODEL_PREFIX } from '../../src/train/huggingface.js';

/** Writes `dir`: `files` copied from `tokenizerDir`, config.json, model.safetensors; returns dir. */
export async function tinyHfDirectory(dir: string, config: Record<string, unknown>, tokenizerDir: string, files: readonly string[]): Promise<string> {
  mkdirSync(dir, { recursive: true });
  for (const file of files) copyFileSync(join(tokenizerDir, file), join(dir, file));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  setBackend(cpuBackend);
  manualSeed(18);
  const parsed = parseHfConfig(JSON.stringify(config), join(dir, 'config.json'));
  const encoder = createEncoder(parsed);
  const prefix = MODEL_PREFIX[parsed.modelType];
  await saveSafetensors(join(dir, 'model.safetensors'), new Map(encoder.namedParameters().map(([name, t]) => [prefix + name, t])), { metadata: { format: 'pt' } });
  encoder.dispose();
  return dir;
}
