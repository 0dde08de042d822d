// `medner compare <runA> <runB> --data <test>`: is A's F1 on the test set different from B's
// by more than chance? Paired approximate randomization and paired bootstrap over sentences.

import type { Command } from 'commander';
import { Option } from 'commander';
import { selectBackend } from './backend-option.js';

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('significance of the F1 difference between two trained models (or two --seeds directories) on one test set')
    .argument('<runA>', 'model or training output directory (or a `medner train --seeds` directory)')
    .argument('<runB>', 'the model to compare against, of the same kind')
    .requiredOption('--data <path>', 'annotated test corpus both models predict')
    .addOption(new Option('--format <format>', 'corpus format').choices(['conll', 'brat', 'pubtator', 'jsonl']).default('conll'))
    .option('--samples <n>', 'random swaps and bootstrap resamples', '10000')
    .option('--seed <n>', 'seed of the resampling', '1')
    .option('--strict', "seqeval's strict entity rules instead of its default")
    .option('--json', 'print one JSON object')
    .addOption(new Option('--backend <name>', 'compute backend').choices(['cpu', 'webgpu']))
    .action(async (runA: string, runB: string, flags: { data: string; format: 'conll' | 'brat' | 'pubtator' | 'jsonl'; samples: string; seed: string; strict?: boolean; json?: boolean; backend?: string }) => {
      const samples = Number(flags.samples);
      const seed = Number(flags.seed);
      if (!Number.isInteger(samples) || samples < 1) throw new Error(`--samples must be a positive integer, got ${flags.samples}`);
      if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${flags.seed}`);
      const [{ loadSentences }, { readCheckpointConfig, resolveCheckpointDir }, { compareRuns, formatComparison, runModels }] = await Promise.all([
        import('../train/corpus.js'), import('../train/checkpoint.js'), import('../research/compare.js'),
      ]);
      // The corpus is read with the scheme of A's first model; both runs must share the labels' scheme.
      const first = await readCheckpointConfig(await resolveCheckpointDir((await runModels(runA))[0]!));
      const data = await loadSentences(flags.data, flags.format, first.scheme);
      const backend = await selectBackend(flags.backend);
      const result = await compareRuns(runA, runB, data.sentences, backend, { samples, seed, strict: flags.strict });
      if (flags.json) {
        console.log(JSON.stringify({
          a: result.a,
          b: result.b,
          sentences: result.sentences,
          pairs: result.units,
          f1_difference: result.difference,
          bootstrap: { interval95: result.bootstrap.interval, p_value: result.bootstrap.pValue, samples: result.bootstrap.samples },
          randomization: { p_value: result.randomization.pValue, samples: result.randomization.samples, exact: result.randomization.exact },
        }));
        return;
      }
      console.log(formatComparison(result));
    });
}
