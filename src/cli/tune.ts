// `medner tune --space space.json --trials N`: hyperparameter search over `medner train`.
// Each trial trains with its settings into <out>/trial-<n>; the pruner sees the dev F1 after
// every epoch and may stop the trial there. trials.jsonl, best-config.json, report.html in <out>.

import { Command, Option } from 'commander';
import { basename, join } from 'node:path';
import { resolveConfig } from '../train/config.js';
import { selectBackend } from './backend-option.js';
import { addTrainOptions, configFromFlags } from './train.js';
import { corpusOptions, type CorpusFlags } from './corpus-options.js';
import { sampleCorpus as BUNDLED_SAMPLE } from '../data/bundled.js';

export function registerTune(program: Command): void {
  const command = program
    .command('tune')
    .description('hyperparameter search (TPE or random sampler, median pruning on the dev F1 of each epoch); without --train, on the bundled BC5CDR sample')
    .requiredOption('--space <file.json>', 'search space: setting -> {type: loguniform|uniform|int|categorical, low, high | choices}')
    .requiredOption('--trials <n>', 'number of trials')
    .addOption(new Option('--sampler <name>', 'sampler').choices(['tpe', 'random']).default('tpe'))
    .addOption(new Option('--pruner <name>', 'pruner fed the dev F1 after each epoch').choices(['median', 'none']).default('median'))
    .option('--search-seed <n>', 'seed of the sampler', '0')
    .option('--resume', 'continue the search saved in --out')
    .option('--out <dir>', 'output directory', 'runs/tune');
  // Every train option, from train's own definitions: each trial trains with them.
  addTrainOptions(command, {
    dev: 'development corpus: the objective (best dev F1) and what the pruner sees',
    test: 'test corpus, scored for every complete trial',
    config: 'JSON file of the settings every trial shares; flags override it, the space overrides both',
    seed: 'training seed of every trial',
  });
  command.action(async (flags: Record<string, string | boolean | undefined>) => {
    const [{ train }, { readSpace }, { createSampler }, { createPruner }, { formatParams, runStudy }] = await Promise.all([
      import('../train/trainer.js'), import('../research/tune/space.js'), import('../research/tune/samplers.js'),
      import('../research/tune/pruner.js'), import('../research/tune/study.js'),
    ]);
    const space = readSpace(flags.space as string);
    const trials = Number(flags.trials);
    if (!Number.isInteger(trials) || trials < 1) throw new Error(`--trials must be a positive integer, got ${flags.trials}`);
    const searchSeed = Number(flags.searchSeed);
    if (!Number.isInteger(searchSeed)) throw new Error(`--search-seed must be an integer, got ${flags.searchSeed}`);
    const { config, fromFile, fromFlags } = configFromFlags(flags);
    const corpus = corpusOptions(flags as CorpusFlags);
    // Every key of the space must be a setting that takes the sampled values: check both ends of each range now.
    for (const [key, d] of Object.entries(space)) {
      const values = d.type === 'categorical' ? d.choices : [d.low, d.high];
      for (const v of values) resolveConfig({ [key]: v }, `${flags.space}: "${key}"`, config);
    }
    const bundled = !flags.train;
    if (!flags.dev && !bundled) throw new Error('tune needs --dev: the objective is the best dev F1, and the pruner reads it after each epoch');
    const data = {
      train: (flags.train as string) ?? BUNDLED_SAMPLE.train,
      dev: (flags.dev as string) ?? BUNDLED_SAMPLE.dev,
      test: (flags.test as string) ?? (bundled ? BUNDLED_SAMPLE.test : undefined),
    };
    if (bundled) console.log('no --train given: tuning on the bundled BC5CDR sample');
    const backend = await selectBackend(flags.backend as string | undefined);
    const out = flags.out as string;
    const sampler = createSampler(flags.sampler as string, searchSeed);
    const pruner = createPruner(flags.pruner as string);
    console.log(`${trials} trials, ${sampler.name} sampler, ${pruner.name} pruner, up to ${config.epochs} epochs each; settings: ${Object.keys(space).join(', ')}`);
    const result = await runStudy({
      space, trials, sampler, pruner, out, resume: flags.resume === true,
      base: { ...fromFile, ...fromFlags },
      // File names only: study.json travels with the search, the directories it read do not.
      description: { data: Object.fromEntries(Object.entries(data).filter(([, v]) => v).map(([k, v]) => [k, basename(v!)])), config },
      objective: async (params, number, shouldPrune) => {
        const values: number[] = [];
        let pruned = false;
        const trialConfig = resolveConfig(params, `trial ${number + 1}`, config);
        const r = await train({
          // A trial cut short by an interruption is run again from its start: its directory is replaced.
          config: trialConfig, ...data, out: join(out, `trial-${number + 1}`), overwrite: true, backend, pretrained: flags.pretrained as string | undefined,
          vocab: flags.vocab as string | undefined, strict: flags.strict === true, ...corpus,
          log: () => {}, progress: false,
          onEpochEnd: (record) => {
            values.push(record.devF1 ?? 0);
            if (shouldPrune(values)) {
              pruned = true;
              return 'stop';
            }
          },
        });
        return { values, pruned, testF1: r.test?.f1 ?? null, bestEpoch: r.bestEpoch };
      },
    });
    if (!result.best) throw new Error(`no trial completed; see ${join(out, 'trials.jsonl')}`);
    const b = result.best;
    const seconds = result.trials.reduce((s, t) => s + t.seconds, 0);
    console.log(`\nbest: trial ${b.number + 1}, dev F1 ${b.value!.toFixed(4)}${b.testF1 === null ? '' : `, test F1 ${b.testF1.toFixed(4)}`} | ${formatParams(b.params)}`);
    console.log(`${result.trials.filter((t) => t.state === 'pruned').length} of ${result.trials.length} trials pruned; ${(seconds / 60).toFixed(1)} minutes of training`);
    console.log(`train with them: medner train --config ${join(out, 'best-config.json')} ...; trials.jsonl and report.html in ${result.outDir}`);
  });
}
