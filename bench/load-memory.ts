// Peak resident memory of loading a BERT-base-sized safetensors checkpoint (random
// weights of the real shapes, ~440 MB) with src/io/safetensors.ts; the target is
// under 2x the file size. The load runs in a fresh child process so that its
// maxRSS counts the load alone, not the writing of the file.
//
//   npx tsx bench/load-memory.ts <temp dir>        (writes <dir>/model.safetensors, then loads it)

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectedEncoderShapes, parseHfConfig } from '../src/io/hf-config.js';
import { loadSafetensors, saveSafetensors, type HostTensor } from '../src/io/safetensors.js';

const MiB = 1024 * 1024;
const bertBase = { model_type: 'bert', vocab_size: 30522, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, max_position_embeddings: 512, type_vocab_size: 2 };

/** xorshift32 into small uniform values: fast enough for 110M floats, and not compressible zeros. */
function randomValues(size: number, seed: number): Float32Array {
  const values = new Float32Array(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    values[i] = (x >>> 0) / 4294967296 / 10 - 0.05;
  }
  return values;
}

async function writeCheckpoint(file: string): Promise<void> {
  const shapes = expectedEncoderShapes(parseHfConfig(JSON.stringify(bertBase)));
  // The pooler too, as in bert-base-uncased's own model.safetensors.
  shapes.set('pooler.dense.weight', [768, 768]);
  shapes.set('pooler.dense.bias', [768]);
  const tensors: [string, HostTensor][] = [...shapes].map(([name, shape], i) => [`bert.${name}`, { shape, data: randomValues(shape.reduce((a, b) => a * b, 1), i + 1) }]);
  await saveSafetensors(file, tensors, { metadata: { format: 'pt' } });
}

function loadAndReport(file: string): void {
  const before = process.memoryUsage().rss;
  const started = performance.now();
  const tensors = loadSafetensors(file);
  const seconds = (performance.now() - started) / 1000;
  const after = process.memoryUsage().rss;
  const peak = process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB
  const size = statSync(file).size;
  let elements = 0;
  for (const t of tensors.values()) elements += t.size;
  const result = {
    file, fileMiB: +(size / MiB).toFixed(1), tensors: tensors.size, parameters: elements, loadSeconds: +seconds.toFixed(2),
    rssBeforeMiB: +(before / MiB).toFixed(1), rssAfterMiB: +(after / MiB).toFixed(1), peakRssMiB: +(peak / MiB).toFixed(1),
    peakOverFile: +(peak / size).toFixed(2), peakAboveBaselineOverFile: +((peak - before) / size).toFixed(2), target: '< 2x file size',
  };
  console.log(JSON.stringify(result, null, 2));
  if (peak >= 2 * size) process.exitCode = 1;
}

const args = process.argv.slice(2);
if (args[0] === '--load-only') {
  loadAndReport(args[1]!);
} else {
  const dir = args[0];
  if (!dir) {
    console.error('usage: npx tsx bench/load-memory.ts <temp dir>');
    process.exit(2);
  }
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'model.safetensors');
  if (!existsSync(file)) {
    console.error(`writing ${file} ...`);
    await writeCheckpoint(file);
  }
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--load-only', file], { stdio: 'inherit' });
  process.exitCode = child.status ?? 1;
}
