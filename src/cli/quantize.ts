// `medner quantize`: write an int8 copy of a trained checkpoint (dynamic quantization of the Linear
// and LSTM weights, as PyTorch's quantize_dynamic), loadable by predict and eval.

import type { Command } from 'commander';

export function registerQuantize(program: Command): void {
  program
    .command('quantize')
    .description('write an int8 copy of a checkpoint (Linear and LSTM weights int8 per output channel, activations quantized per row at run time) for predict and eval')
    .requiredOption('--model <dir>', 'float checkpoint directory (or a training output directory)')
    .requiredOption('--out <dir>', 'directory for the int8 checkpoint')
    .action(async (flags: { model: string; out: string }) => {
      const [{ cpuBackend }, { quantizeCheckpoint }] = await Promise.all([import('../backend/registry.js'), import('../train/quantize.js')]);
      const result = await quantizeCheckpoint(flags.model, flags.out, cpuBackend);
      const mb = (bytes: number) => (bytes / 1e6).toFixed(2);
      console.log(`${result.parameters.length} weights int8; model.safetensors ${mb(result.floatBytes)} MB -> ${mb(result.int8Bytes)} MB (${(result.floatBytes / result.int8Bytes).toFixed(2)}x smaller)`);
      console.log(`int8 checkpoint in ${flags.out}`);
    });
}
