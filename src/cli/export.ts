// `medner export`: a trained model in another tool's layout. --format hf writes a Hugging Face
// token-classification directory (see src/train/huggingface.ts).

import { Option, type Command } from 'commander';
import { selectBackend } from './backend-option.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a trained model for another tool: --format hf gives a directory transformers loads with AutoModelForTokenClassification')
    .requiredOption('--model <dir>', 'checkpoint directory (or a training output directory)')
    .addOption(new Option('--format <format>', 'hf: Hugging Face transformers token classification').choices(['hf']).default('hf'))
    .requiredOption('--out <dir>', 'directory to write (replaced if it exists)')
    .addOption(new Option('--backend <name>', 'compute backend').choices(['cpu', 'webgpu']))
    .action(async (flags: { model: string; format: 'hf'; out: string; backend?: string }) => {
      const backend = await selectBackend(flags.backend);
      const { exportHf } = await import('../train/export-hf.js');
      const summary = await exportHf(flags.model, flags.out, backend);
      console.log(`${summary.architecture} with ${summary.labels} labels in ${flags.out}: model.safetensors (${summary.tensors} tensors)${summary.headTensors ? `, crf.safetensors (${summary.headTensors} tensors)` : ''}, vocab.txt, tokenizer_config.json, README.md`);
    });
}
