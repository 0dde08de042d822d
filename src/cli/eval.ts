// `medner eval`: score a saved model on a corpus exactly as seqeval does, with a
// per-type table, token accuracy and an error analysis.

import type { Command } from 'commander';
import { Option } from 'commander';
import { classificationReport, entityScores, tokenAccuracy } from '../metrics/scores.js';
import { analyzeErrors, formatErrorAnalysis } from '../metrics/errors.js';
import { selectBackend } from './backend-option.js';
import { addCorpusOptions, corpusOptions, type CorpusFlags } from './corpus-options.js';
import { countEntityTypes, effectiveTypeMap, mapEntityTypes } from '../data/label-maps.js';
import type { Sentence } from '../data/types.js';

/** Types the model can predict but the data never has, and types in the data the model cannot predict. */
export interface UnmatchedTypes {
  model_only: string[];
  data_only: string[];
}

export function unmatchedTypes(modelTypes: Iterable<string>, dataTypes: Iterable<string>): UnmatchedTypes {
  const model = new Set(modelTypes);
  const data = new Set(dataTypes);
  return { model_only: [...model].filter((t) => !data.has(t)).sort(), data_only: [...data].filter((t) => !model.has(t)).sort() };
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate a trained model on an annotated corpus (entity-level P/R/F1 with seqeval semantics)')
    .requiredOption('--model <dir>', 'checkpoint directory (or a training output directory)')
    .option('--data <path>', 'annotated corpus to score')
    .option('--test <path>', 'same as --data')
    .option('--json', 'print one JSON object: micro, macro, weighted, per_type, token_accuracy, errors')
    .addOption(new Option('--format <format>', 'corpus format (default: from the file name: directory/.ann = brat, .jsonl, .tsv/.conll, .pubtator or a PMID|t| first line)').choices(['conll', 'brat', 'pubtator', 'jsonl']))
    .option('--strict', "seqeval's strict mode (BIO/BIOES entity rules) instead of its default")
    .option('--errors [n]', 'print an error analysis with up to n examples per kind', '0')
    .addOption(new Option('--backend <name>', 'compute backend').choices(['cpu', 'webgpu']));
  addCorpusOptions(program.commands.at(-1)!).action(
    async (flags: { model: string; data?: string; test?: string; json?: boolean; format?: 'conll' | 'brat' | 'pubtator' | 'jsonl'; strict?: boolean; errors: string | boolean; backend?: string } & CorpusFlags) => {
      const path = flags.data ?? flags.test;
      if (!path) throw new Error('eval needs --data <path> (the annotated corpus to score)');
      const backend = await selectBackend(flags.backend);
      const [{ loadCheckpoint }, { loadSentences }, { evaluate }] = await Promise.all([import('../train/checkpoint.js'), import('../train/corpus.js'), import('../train/evaluate.js')]);
      const { config, model, encoder } = await loadCheckpoint(flags.model, backend);
      const scheme = config.scheme;
      const { typeMap, jsonl } = corpusOptions(flags);
      // The gold types as the model learned them (the training run's type map), then the user's map on
      // both gold and predictions: a model of fine types scored on a corpus of collapsed ones.
      const data = await loadSentences(path, flags.format ?? 'auto', config.scheme, { jsonl, typeMap: config.type_map });
      const map = typeMap ? effectiveTypeMap(countEntityTypes(data.sentences, scheme), typeMap) : null;
      const mapTags = (sentences: Sentence[]) => (map ? mapEntityTypes(sentences, map, scheme) : sentences);
      const started = performance.now();
      const { predicted: raw } = await evaluate(model, encoder, config.labels, data.sentences, backend, config.scheme);
      const seconds = (performance.now() - started) / 1000;
      const predicted = mapTags(data.sentences.map((s, i) => ({ tokens: s.tokens, tags: raw[i]! }))).map((s) => s.tags);
      const sentences = mapTags(data.sentences);
      const gold = sentences.map((s) => s.tags);
      const modelTypes = [...new Set(config.labels.filter((l) => l !== 'O').map((l) => l.slice(2)))].flatMap((t) => {
        const to = map && t in map ? map[t]! : t;
        return to === null || to === 'O' ? [] : [to];
      });
      const unmatched = unmatchedTypes(modelTypes, countEntityTypes(sentences, scheme).keys());
      const scores = entityScores(gold, predicted, flags.strict ? { mode: 'strict', scheme } : { mode: 'default' });
      const examples = flags.errors === true ? 3 : Number(flags.errors);
      const errors = analyzeErrors(gold, predicted, { maxExamples: Math.max(examples, 3), tokens: data.sentences.map((s) => s.tokens), ...(flags.strict ? { mode: 'strict' as const, scheme } : {}) });
      if (flags.json) {
        const pick = (s: { precision: number; recall: number; f1: number; support: number }) => ({ precision: s.precision, recall: s.recall, f1: s.f1, support: s.support });
        console.log(JSON.stringify({
          micro: pick(scores.micro),
          macro: pick(scores.macro),
          weighted: pick(scores.weighted),
          per_type: Object.fromEntries([...scores.perType].map(([type, s]) => [type, pick(s)])),
          token_accuracy: tokenAccuracy(gold, predicted),
          errors: { correct: errors.correct, ...errors.counts },
          sentences: data.sentences.length,
          seconds,
          sentences_per_second: data.sentences.length / seconds,
          mode: flags.strict ? 'strict' : 'default',
          unmatched_types: unmatched,
        }));
        model.dispose();
        return;
      }
      console.log(classificationReport(scores, 4));
      console.log(`token accuracy ${tokenAccuracy(gold, predicted).toFixed(4)}`);
      console.log(`F1 ${scores.micro.f1.toFixed(4)} (precision ${scores.micro.precision.toFixed(4)}, recall ${scores.micro.recall.toFixed(4)}) on ${data.sentences.length} sentences${flags.strict ? ', strict mode' : ''} (tagged in ${seconds.toFixed(1)} s, ${Math.round(data.sentences.length / seconds)} sentences/s)`);
      console.log(`errors: ${Object.entries(errors.counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      if (unmatched.model_only.length || unmatched.data_only.length) {
        const parts = [
          unmatched.model_only.length ? `the model predicts ${unmatched.model_only.join(', ')}, absent from the data (counted as false positives)` : '',
          unmatched.data_only.length ? `the data has ${unmatched.data_only.join(', ')}, which the model cannot predict (counted as misses)` : '',
        ].filter(Boolean);
        console.log(`unmatched types: ${parts.join('; ')}; map them with --label-map <file.json>`);
      }
      if (examples > 0) console.log('\n' + formatErrorAnalysis({ ...errors, examples: Object.fromEntries(Object.entries(errors.examples).map(([k, v]) => [k, v.slice(0, examples)])) as typeof errors.examples }));
      model.dispose();
    },
  );
}
