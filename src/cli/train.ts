// `medner train`: train a tagger on a corpus, evaluate it and keep the best
// checkpoint. With no arguments it trains the default BiLSTM-CRF on the bundled
// BC5CDR sample and prints its test F1.

import { Command, Option } from 'commander';
import { dirname } from 'node:path';
import { DEFAULTS, defaultsFor, readConfigFile, resolveConfig, type ModelKind, type TrainConfig } from '../train/config.js';
import { selectBackend } from './backend-option.js';
import { addCorpusOptions, corpusOptions, type CorpusFlags } from './corpus-options.js';
import { sampleCorpus as BUNDLED_SAMPLE } from '../data/bundled.js';

const SAMPLE_DIR = dirname(BUNDLED_SAMPLE.train);

/** Flag -> config key, for the hyperparameters that have a flag. */
export const FLAGS: [flag: string, key: keyof TrainConfig, help: string][] = [
  ['--epochs <n>', 'epochs', 'training epochs'],
  ['--batch-size <n>', 'batchSize', 'sentences per batch'],
  ['--lr <x>', 'lr', 'learning rate of the head (embeddings, BiLSTM, Linear, CRF)'],
  ['--encoder-lr <x>', 'encoderLr', 'learning rate of the BERT encoder'],
  ['--warmup <fraction>', 'warmup', 'fraction of steps with linear warmup'],
  ['--schedule <kind>', 'schedule', 'learning-rate decay after warmup: linear, cosine, constant'],
  ['--weight-decay <x>', 'weightDecay', 'AdamW decoupled weight decay (none on biases and LayerNorm)'],
  ['--clip <norm>', 'clip', 'global gradient-norm clipping, 0 = off'],
  ['--dropout <p>', 'dropout', 'dropout of the BiLSTM and of the tagger heads'],
  ['--patience <n>', 'patience', 'epochs without dev improvement before stopping'],
  ['--scheme <scheme>', 'scheme', 'tagging scheme: BIO or BIOES (iob2 and iobes are accepted for them)'],
  ['--constraints <mode>', 'constraints', 'CRF transition constraints: off, decode, train+decode'],
  ['--grad-accumulation <n>', 'gradAccumulation', 'batches per optimizer step'],
  ['--max-length <n>', 'maxLength', 'most subwords per BERT input; longer sentences are windowed'],
  ['--crf <variant>', 'crf', 'CRF variant of the CRF models: linear or semi-markov'],
  ['--max-segment-length <n>', 'maxSegmentLength', 'longest segment in words of the semi-Markov CRF'],
  ['--pooling <kind>', 'pooling', 'subword-to-word pooling for BERT models: first or mean'],
];

/**
 * The training config a command line asks for: model-dependent defaults, then the --config
 * file, then the flags. `fromFile` and `fromFlags` are the overrides as given (tune writes them
 * under the best settings).
 */
export function configFromFlags(flags: Record<string, string | boolean | undefined>): { config: TrainConfig; fromFile: Partial<TrainConfig>; fromFlags: Record<string, unknown> } {
  const fromFile = flags.config ? readConfigFile(flags.config as string) : {};
  const fromFlags: Record<string, unknown> = { model: flags.model, format: flags.format, seed: flags.seed, classWeights: flags.classWeights || undefined };
  for (const [flag, key] of FLAGS) {
    const camel = flag.slice(2, flag.indexOf(' ')).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    fromFlags[key] = flags[camel];
  }
  const kind = (flags.model ?? fromFile.model ?? DEFAULTS.model) as ModelKind;
  const base = resolveConfig({ model: kind }, 'command line', DEFAULTS);
  const config = resolveConfig(fromFlags, 'command line', resolveConfig(fromFile, (flags.config as string) ?? 'config', defaultsFor(base.model)));
  return { config, fromFile, fromFlags: Object.fromEntries(Object.entries(fromFlags).filter(([, v]) => v !== undefined)) };
}

/** What `tune` says differently of an option it shares with train (every trial trains with it). */
export interface TrainOptionHelp {
  dev?: string;
  test?: string;
  config?: string;
  seed?: string;
}

/**
 * The options of a training run: data, model, settings, backend, seed, corpus reading and every
 * hyperparameter flag. train and tune both take them (tune passes them to each trial), from here.
 */
export function addTrainOptions(command: Command, help: TrainOptionHelp = {}): Command {
  command
    .option('--train <path>', 'training corpus (default: the bundled BC5CDR sample)')
    .option('--dev <path>', help.dev ?? 'development corpus, evaluated after each epoch for early stopping')
    .option('--test <path>', help.test ?? 'test corpus, evaluated once with the best checkpoint')
    .addOption(new Option('--format <format>', 'corpus format (default: from each file name: directory/.ann = brat, .jsonl, .tsv/.conll, .pubtator or a PMID|t| first line)').choices(['conll', 'brat', 'pubtator', 'jsonl']))
    .addOption(new Option('--model <kind>', 'model').choices(['bilstm-crf', 'bert-bilstm-crf', 'bert-crf', 'bert-softmax', 'bilstm-semicrf', 'bert-semicrf']))
    .option('--pretrained <dir>', 'Hugging Face BERT directory (config.json, vocab.txt, model.safetensors) to fine-tune')
    .option('--vocab <file>', 'vocab.txt for a BERT trained from scratch (default: built from the training data)')
    .option('--config <file.json>', help.config ?? 'JSON file of settings (keys as in the README); flags override it')
    .addOption(new Option('--backend <name>', 'compute backend (default: $MEDNER_BACKEND or cpu)').choices(['cpu', 'webgpu']))
    .option('--seed <n>', help.seed ?? 'random seed: the same seed gives the same model')
    .option('--class-weights', 'weight the softmax loss by inverse tag frequency')
    .option('--strict', 'stop at the first corpus defect (overlapping, duplicate, discontinuous, sentence-crossing, mismatched or wordless entity) instead of handling it by rule');
  addCorpusOptions(command);
  for (const [flag, , text] of FLAGS) command.option(flag, text);
  return command;
}

export function registerTrain(program: Command): void {
  const command = program
    .command('train')
    .description('train a named-entity tagger; without --train, trains the default BiLSTM-CRF on the bundled BC5CDR sample')
    .option('--out <dir>', 'output directory', 'runs/medner')
    .option('--resume <dir>', 'continue the interrupted run saved in this output directory')
    .option('--overwrite', 'train into a non-empty --out (its earlier run is replaced)')
    .option('--seeds <list>', 'train once per seed (e.g. 1,2,3) into <out>/seed-<n> and summarize mean ± std')
    .option('--repeats <n>', 'train n times with seeds --seed, --seed+1, ... (as --seeds)')
    .option('--no-progress', 'no progress bar');
  addTrainOptions(command);
  command.action(async (flags: Record<string, string | boolean | undefined>) => {
    const { config } = configFromFlags(flags);
    const bundled = !flags.train && !flags.resume;
    if (bundled) console.log(`no --train given: training on the bundled BC5CDR sample (${SAMPLE_DIR})`);
    if (!flags.train && flags.resume) throw new Error('--resume needs the same --train (and --dev/--test) as the interrupted run');
    const backend = await selectBackend(flags.backend as string | undefined);
    const common = {
      config,
      train: (flags.train as string) ?? BUNDLED_SAMPLE.train,
      dev: (flags.dev as string) ?? (bundled ? BUNDLED_SAMPLE.dev : undefined),
      test: (flags.test as string) ?? (bundled ? BUNDLED_SAMPLE.test : undefined),
      // A resumed run continues in its own directory unless --out says otherwise.
      out: flags.resume && command.getOptionValueSource('out') === 'default' ? (flags.resume as string) : (flags.out as string),
      backend,
      pretrained: flags.pretrained as string | undefined,
      vocab: flags.vocab as string | undefined,
      resume: flags.resume as string | undefined,
      strict: flags.strict === true,
      overwrite: flags.overwrite === true,
      progress: flags.progress !== false,
      ...corpusOptions(flags as CorpusFlags),
    };
    if (flags.seeds !== undefined || flags.repeats !== undefined) {
      if (flags.resume) throw new Error('--resume continues one run; resume a seed run with --resume <out>/seed-<n>');
      const { formatSeedSummary, parseSeeds, trainSeeds } = await import('../research/seeds.js');
      const summary = await trainSeeds(common, parseSeeds(flags.seeds as string | undefined, flags.repeats as string | undefined, config.seed));
      console.log(`\n${summary.split} F1 over ${summary.runs.length} seeds:\n${formatSeedSummary(summary)}`);
      console.log(`one directory per seed and seeds.json in ${common.out}`);
      return;
    }
    const { train } = await import('../train/trainer.js');
    const result = await train(common);
    if (result.test) {
      console.log(`\ntest (best epoch ${result.bestEpoch}):\n${result.test.report}`);
      console.log(`test F1 ${result.test.f1.toFixed(4)} (precision ${result.test.precision.toFixed(4)}, recall ${result.test.recall.toFixed(4)})`);
    } else if (result.bestDevF1 !== null) {
      console.log(`best dev F1 ${result.bestDevF1.toFixed(4)} at epoch ${result.bestEpoch}`);
    }
    console.log(`model, metrics.jsonl and report.html in ${result.outDir}`);
  });
}
