// Build the model a config names, with its inputs' encoder: the one place that
// maps `--model` to classes, so train, eval and predict agree.

import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { NerBatch } from '../models/batch.js';
import { BiLstmCrf } from '../models/bilstm-crf.js';
import { BertBiLstmCrf, BertCrf, BertSoftmax, type BertTagger } from '../models/bert-tagger.js';
import { encoderConfig, type EncoderConfig } from '../nn/encoder-config.js';
import type { CrfSpec, CrfVariant } from '../crf/variant.js';
import type { SubwordTokenizer } from '../text/subword-tokenizer.js';
import { DEFAULTS, type TrainConfig } from './config.js';
import { SubwordEncoder, WordEncoder, type SentenceEncoder } from './encode.js';
import type { Vocabulary } from './vocab.js';

/** What train/eval/predict need of any tagger. */
export interface NerModel extends Module {
  readonly crf: CrfVariant | null;
  classWeights: Tensor | null;
  loss(batch: NerBatch): Tensor;
  predict(batch: NerBatch): Promise<number[][]>;
  emissions(batch: NerBatch, who?: string): { emissions: Tensor; lengths: number[] };
}

/** The vocabularies a model reads: words (+ chars) for the BiLSTM-CRF, WordPiece for BERT. */
export type ModelVocabulary = { kind: 'words'; words: Vocabulary; chars: Vocabulary | null } | { kind: 'subwords'; tokenizer: SubwordTokenizer };

export const isBertModel = (kind: TrainConfig['model']): boolean => !kind.startsWith('bilstm-');

/** The config of a BERT encoder trained from scratch: the train config's shape, bert-base's other settings. */
export function scratchEncoderConfig(config: TrainConfig, vocabSize: number): EncoderConfig {
  return encoderConfig({
    modelType: 'bert',
    vocabSize,
    hiddenSize: config.bertHidden,
    numLayers: config.bertLayers,
    numHeads: config.bertHeads,
    intermediateSize: config.bertIntermediate,
    maxPositions: Math.max(512, config.maxLength),
    hiddenDropout: config.bertDropout,
    attentionDropout: config.bertDropout,
  });
}

/** The model and its input encoder; the CRF gets the scheme's transition constraints unless they are off. */
export function createModel(config: TrainConfig, vocabulary: ModelVocabulary, labels: readonly string[], encoder: EncoderConfig | null): { model: NerModel; encoder: SentenceEncoder } {
  const built = buildModel(config, vocabulary, labels, encoder);
  if (built.model.crf?.setConstraints && config.constraints !== 'off') built.model.crf.setConstraints({ mode: config.constraints, labels: [...labels], scheme: config.scheme });
  return built;
}

function buildModel(config: TrainConfig, vocabulary: ModelVocabulary, labels: readonly string[], encoder: EncoderConfig | null): { model: NerModel; encoder: SentenceEncoder } {
  const numTags = labels.length;
  // The CRF models' variant: the config's crf key (bilstm-semicrf and bert-semicrf default it to semi-markov).
  const crf: CrfSpec = { variant: config.model.endsWith('-semicrf') ? 'semi-markov' : (config.crf ?? 'linear'), labels, scheme: config.scheme, maxSegmentLength: config.maxSegmentLength ?? DEFAULTS.maxSegmentLength };
  if (config.model === 'bilstm-crf' || config.model === 'bilstm-semicrf') {
    if (vocabulary.kind !== 'words') throw new Error('bilstm-crf needs a word vocabulary');
    const model = new BiLstmCrf({
      vocabSize: vocabulary.words.size,
      numTags,
      wordDim: config.wordDim,
      hiddenSize: config.lstmHidden,
      dropout: config.dropout,
      crf,
      chars: vocabulary.chars && config.charFeatures === 'cnn' ? { numChars: vocabulary.chars.size, charDim: config.charDim, filters: config.charFilters } : undefined,
    });
    return { model: model as unknown as NerModel, encoder: new WordEncoder(vocabulary.words, config.charFeatures === 'cnn' ? vocabulary.chars : null, config.lowercase) };
  }
  // `encoder` is of any architecture (bert, roberta, distilbert, albert).
  if (vocabulary.kind !== 'subwords' || !encoder) throw new Error(`${config.model} needs a WordPiece tokenizer and an encoder config`);
  const options = { encoder, numTags, pooling: config.pooling, dropout: config.dropout, crf };
  let model: BertTagger;
  if (config.model === 'bert-softmax') model = new BertSoftmax(options);
  else if (config.model === 'bert-crf' || config.model === 'bert-semicrf') model = new BertCrf(options);
  else model = new BertBiLstmCrf({ ...options, lstmHidden: config.lstmHidden });
  // The encoder knows its longest input (RoBERTa: max_position_embeddings less its position offset).
  return { model: model as unknown as NerModel, encoder: new SubwordEncoder(vocabulary.tokenizer, Math.min(config.maxLength, model.bert.maxInputLength)) };
}
