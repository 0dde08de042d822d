// `medner bench`: the command; the suites (bench-suite.ts) load only when it runs.

import { Option, type Command } from 'commander';
import type { BenchSuite } from './bench-suite.js';
import { selectBackend } from './backend-option.js';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('a two-minute benchmark of this machine: matmul, softmax, layer_norm, training and inference steps')
    .addOption(new Option('--backend <name>', 'compute backend (default: $MEDNER_BACKEND or cpu)').choices(['cpu', 'webgpu']))
    .option('--json', 'print one JSON object instead of lines')
    .option('--quick', 'toy sizes: checks that everything runs, in seconds')
    .addOption(new Option('--suite <name>', "'gpu': matmul 1024-8192 and training steps at batch 32 x 128 up to BERT (12,768), for a discrete GPU").choices(['default', 'gpu']).default('default'))
    .action(async (flags: { backend?: string; json?: boolean; quick?: boolean; suite: BenchSuite }) => {
      const backend = await selectBackend(flags.backend);
      const { runBench } = await import('./bench-suite.js');
      const report = await runBench(backend, flags.json ? () => undefined : (line) => console.log(line), flags.quick, flags.suite);
      if (flags.json) console.log(JSON.stringify(report));
      else console.log(`backend ${report.backend}${report.adapter ? ` (${JSON.stringify(report.adapter)})` : ''}, ${JSON.stringify(report.machine)}`);
    });
}
