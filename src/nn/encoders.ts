// One entry point for every pretrained encoder architecture medner loads: BERT (BioBERT,
// BiomedBERT, Bioformer, bert-base-*), RoBERTa, DistilBERT, ALBERT, ModernBERT and GPT-Neo. Each keeps Hugging Face's
// parameter names; the taggers see them all through TokenEncoder.
// B = batch, S = subword positions, H = hidden

import type { EncoderConfig } from './encoder-config.js';
import { BertModel } from './bert.js';
import { DistilBertModel } from './distilbert.js';
import { AlbertModel } from './albert.js';
import { ModernBertModel } from './modernbert.js';
import { GptNeoModel } from './gpt-neo.js';
import type { TokenEncoder } from './pretrained-encoder.js';

export type { EncoderInputs } from './encoder-inputs.js';
export type { TokenEncoder } from './pretrained-encoder.js';

/** A freshly initialised encoder of the architecture `config` names (weights: HF's init, then load a checkpoint). */
export function createEncoder(config: EncoderConfig): TokenEncoder {
  switch (config.modelType) {
    case 'bert':
    case 'roberta':
      return new BertModel(config);
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
