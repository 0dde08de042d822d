// Build the model a config names, with its inputs' encoder: the one place that
// maps `--model` to classes, so train, eval and predict agree.

import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { NerBatch } from '../models/batch.js';
import { BiLstmCrf } from '../models/bilstm-crf.js';
import { BertBiLstmCrf, BertCrf, BertSoftmax, type BertTagger } from '../models/bert-tagger.js';
import type { BertConfig } from '../nn/bert.js';
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

/** HF-style BERT config for an encoder trained from scratch. */
export function scratchBertConfig(config: TrainConfig, vocabSize: number): BertConfig {
  return {
    vocab_size: vocabSize,
    hidden_size: config.bertHidden,
    num_hidden_layers: config.bertLayers,
    num_attention_heads: config.bertHeads,
    intermediate_size: config.bertIntermediate,
    hidden_act: 'gelu',
    max_position_embeddings: Math.max(512, config.maxLength),
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    hidden_dropout_prob: config.bertDropout,
    attention_probs_dropout_prob: config.bertDropout,
    initializer_range: 0.02,
  } as BertConfig;
}

/** The model and its input encoder; the CRF gets the scheme's transition constraints unless they are off. */
export function createModel(config: TrainConfig, vocabulary: ModelVocabulary, labels: readonly string[], bert: BertConfig | null): { model: NerModel; encoder: SentenceEncoder } {
  const built = buildModel(config, vocabulary, labels, bert);
  if (built.model.crf?.setConstraints && config.constraints !== 'off') built.model.crf.setConstraints({ mode: config.constraints, labels: [...labels], scheme: config.scheme });
  return built;
}

function buildModel(config: TrainConfig, vocabulary: ModelVocabulary, labels: readonly string[], bert: BertConfig | null): { model: NerModel; encoder: SentenceEncoder } {
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
  // `bert` is an HF config.json object of any encoder architecture (model_type bert, roberta, distilbert, albert).
  if (vocabulary.kind !== 'subwords' || !bert) throw new Error(`${config.model} needs a WordPiece tokenizer and an encoder config`);
  const options = { bert, numTags, pooling: config.pooling, dropout: config.dropout, crf };
  let model: BertTagger;
  if (config.model === 'bert-softmax') model = new BertSoftmax(options);
  else if (config.model === 'bert-crf' || config.model === 'bert-semicrf') model = new BertCrf(options);
  else model = new BertBiLstmCrf({ ...options, lstmHidden: config.lstmHidden });
  // The encoder knows its longest input (RoBERTa: max_position_embeddings less its position offset).
  return { model: model as unknown as NerModel, encoder: new SubwordEncoder(vocabulary.tokenizer, Math.min(config.maxLength, model.bert.maxInputLength)) };
}
