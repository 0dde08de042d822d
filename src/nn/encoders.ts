// One entry point for every pretrained encoder architecture medner loads: BERT (BioBERT,
// BiomedBERT, Bioformer, bert-base-*), RoBERTa, DistilBERT, ALBERT and GPT-Neo. Each keeps Hugging Face's
// parameter names; the taggers see them all through TokenEncoder.
// B = batch, S = subword positions, H = hidden

import type { Tensor } from '../tensor/tensor.js';
import { parseHfConfig, type EncoderConfig, type EncoderType } from '../io/hf-config.js';
import type { Module } from './module.js';
import { BertModel, type BertConfig } from './bert.js';
import { DistilBertModel } from './distilbert.js';
import { AlbertModel } from './albert.js';
import { ModernBertModel } from './modernbert.js';
import { GptNeoModel } from './gpt-neo.js';
import type { EncoderInputs } from './encoder-inputs.js';

export type { EncoderInputs } from './encoder-inputs.js';

/** What a tagger needs of an encoder, whatever its architecture. */
export interface TokenEncoder extends Module {
  readonly modelType: EncoderType;
  /** Width of lastHiddenState. */
  readonly hiddenSize: number;
  /** Longest input, in subwords, the position table allows. */
  readonly maxInputLength: number;
  /** max_position_embeddings: rows of the position table (RoBERTa's first maxPositions - maxInputLength are not used by real tokens). */
  readonly maxPositions: number;
  /** hidden_dropout_prob (DistilBERT: dropout; GPT-Neo: classifier_dropout); the taggers' default classifier dropout, as HF's. */
  readonly hiddenDropout: number;
  /** initializer_range, for the head layers a tagger adds. */
  readonly initializerRange: number;
  /** inputIds i32 [B, S] -> lastHiddenState [B, S, H]. */
  forward(inputIds: Tensor, options?: EncoderInputs): { lastHiddenState: Tensor };
  /** What a token classifier reads of lastHiddenState [B, S, H], where the HF task model puts a head between them (ModernBERT); absent = lastHiddenState itself. */
  tokenFeatures?(lastHiddenState: Tensor): Tensor;
}

/** The HF-named BertConfig of a bert or roberta EncoderConfig. */
export function bertConfigOf(config: EncoderConfig): BertConfig {
  if (config.modelType !== 'bert' && config.modelType !== 'roberta') throw new Error(`bertConfigOf: '${config.modelType}' is not BERT or RoBERTa`);
  const initializerRange = config.raw.initializer_range;
  return {
    model_type: config.modelType,
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    intermediate_size: config.intermediateSize,
    hidden_act: config.hiddenAct as BertConfig['hidden_act'],
    max_position_embeddings: config.maxPositions,
    type_vocab_size: config.typeVocabSize,
    layer_norm_eps: config.layerNormEps,
    hidden_dropout_prob: config.hiddenDropout,
    attention_probs_dropout_prob: config.attentionDropout,
    initializer_range: typeof initializerRange === 'number' ? initializerRange : 0.02,
    pad_token_id: config.padTokenId,
  };
}

/** A freshly initialised encoder of the architecture `config` names (weights: HF's init, then load a checkpoint). */
export function createEncoder(config: EncoderConfig): TokenEncoder {
  switch (config.modelType) {
    case 'bert':
    case 'roberta':
      return new BertModel(bertConfigOf(config));
    case 'distilbert':
      return new DistilBertModel(config);
    case 'albert':
      return new AlbertModel(config);
    case 'modernbert':
      return new ModernBertModel(config);
    case 'gpt_neo':
      return new GptNeoModel(config);
  }
}

/**
 * An encoder from a config.json object in HF's field names, as taggers and medner checkpoints
 * store it. Without model_type it is BERT, and a partial BERT config takes bert-base's defaults
 * for the rest (encoders trained from scratch are given that way).
 */
export function encoderFromConfigJson(json: Partial<BertConfig> & Pick<BertConfig, 'vocab_size'>, source = 'encoder config'): TokenEncoder {
  const type = json.model_type ?? 'bert';
  if (type === 'bert' || type === 'roberta') return new BertModel(json);
  return createEncoder(parseHfConfig(JSON.stringify(json), source));
}
