// `medner quantize`: a trained checkpoint -> an int8 checkpoint (dynamic quantization of every
// Linear and LSTM weight, src/nn/quantize.ts), in the same directory format, for predict and eval.

import { platform } from '../platform/index.js';
import type { Backend } from '../backend/backend.js';
import { quantizeDynamic } from '../nn/quantize.js';
import { loadCheckpoint, resolveCheckpointDir, saveCheckpoint, QUANTIZED_CHECKPOINT_VERSION, type CheckpointConfig } from './checkpoint.js';

const { stat } = platform.fs;
const { join, resolve } = platform.path;

export interface QuantizeResult {
  /** The int8 weights by dotted name. */
  parameters: string[];
  /** Bytes of model.safetensors before and after. */
  floatBytes: number;
  int8Bytes: number;
}

/** Read the float checkpoint in `modelDir`, quantize it, write it to `outDir` (through a temporary directory and a rename). */
export async function quantizeCheckpoint(modelDir: string, outDir: string, backend: Backend): Promise<QuantizeResult> {
  const source = await resolveCheckpointDir(modelDir);
  if (resolve(source) === resolve(outDir) || resolve(modelDir) === resolve(outDir)) throw new Error(`${outDir}: --out must differ from --model (the float checkpoint is kept)`);
  const loaded = await loadCheckpoint(source, backend);
  try {
    if (loaded.config.quantization) throw new Error(`${join(source, 'config.json')}: already an int8 checkpoint`);
    loaded.model.eval();
    const parameters = await quantizeDynamic(loaded.model);
    if (parameters.length === 0) throw new Error(`${source}: the model has no Linear or LSTM weight to quantize`);
    const config: CheckpointConfig = {
      ...loaded.config,
      version: QUANTIZED_CHECKPOINT_VERSION,
      quantization: {
        method: 'dynamic-int8',
        weights: 'int8, symmetric, one scale per output channel (max|w| / 127)',
        activations: 'int8, symmetric, one scale per row (token) computed at run time (max|x| / 127); int32 sums',
        parameters,
      },
    };
    await saveCheckpoint(outDir, config, loaded.model, loaded.vocabulary);
    const size = async (dir: string) => (await stat(join(dir, 'model.safetensors'))).size;
    return { parameters, floatBytes: await size(source), int8Bytes: await size(outDir) };
  } finally {
    loaded.model.dispose();
  }
}
