// `medner eval`: score a saved model on a corpus exactly as seqeval does, with a
// per-type table, token accuracy and an error analysis.

import type { Command } from 'commander';
import { Option } from 'commander';
import { loadCheckpoint } from '../train/checkpoint.js';
import { loadSentences } from '../train/corpus.js';
import { evaluate } from '../train/evaluate.js';
import { classificationReport, entityScores, tokenAccuracy } from '../metrics/scores.js';
import { analyzeErrors, formatErrorAnalysis } from '../metrics/errors.js';
import { selectBackend } from './backend-option.js';

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate a trained model on an annotated corpus (entity-level P/R/F1 with seqeval semantics)')
    .requiredOption('--model <dir>', 'checkpoint directory (or a training output directory)')
    .option('--data <path>', 'annotated corpus to score')
    .option('--test <path>', 'same as --data')
    .option('--json', 'print one JSON object: micro, macro, weighted, per_type, token_accuracy, errors')
    .addOption(new Option('--format <format>', 'corpus format (default: from the file name: directory/.ann = brat, .jsonl, .tsv/.conll, .pubtator or a PMID|t| first line)').choices(['conll', 'brat', 'pubtator', 'jsonl']))
    .option('--strict', "seqeval's strict mode (IOB2/IOBES entity rules) instead of its default")
    .option('--errors [n]', 'print an error analysis with up to n examples per kind', '0')
    .addOption(new Option('--backend <name>', 'compute backend').choices(['cpu', 'webgpu']))
    .action(async (flags: { model: string; data?: string; test?: string; json?: boolean; format?: 'conll' | 'brat' | 'pubtator' | 'jsonl'; strict?: boolean; errors: string | boolean; backend?: string }) => {
      const path = flags.data ?? flags.test;
      if (!path) throw new Error('eval needs --data <path> (the annotated corpus to score)');
      const backend = await selectBackend(flags.backend);
      const { config, model, encoder } = await loadCheckpoint(flags.model, backend);
      const data = await loadSentences(path, flags.format ?? 'auto', config.scheme);
      const started = performance.now();
      const { predicted } = await evaluate(model, encoder, config.labels, data.sentences, backend, config.scheme);
      const seconds = (performance.now() - started) / 1000;
      const gold = data.sentences.map((s) => s.tags);
      const scheme = config.scheme === 'BIOES' ? 'iobes' : 'iob2';
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
        }));
        model.dispose();
        return;
      }
      console.log(classificationReport(scores, 4));
      console.log(`token accuracy ${tokenAccuracy(gold, predicted).toFixed(4)}`);
      console.log(`F1 ${scores.micro.f1.toFixed(4)} (precision ${scores.micro.precision.toFixed(4)}, recall ${scores.micro.recall.toFixed(4)}) on ${data.sentences.length} sentences${flags.strict ? ', strict mode' : ''} (tagged in ${seconds.toFixed(1)} s, ${Math.round(data.sentences.length / seconds)} sentences/s)`);
      console.log(`errors: ${Object.entries(errors.counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      if (examples > 0) console.log('\n' + formatErrorAnalysis({ ...errors, examples: Object.fromEntries(Object.entries(errors.examples).map(([k, v]) => [k, v.slice(0, examples)])) as typeof errors.examples }));
      model.dispose();
    });
}
