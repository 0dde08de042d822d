// The layers: Module and the building blocks of BERT, BiLSTM and char-CNN features.
export { Module, parameter } from './module.js';
export { Linear, Embedding, LayerNorm, Dropout, type LinearOptions, type EmbeddingOptions } from './linear.js';
export { MultiHeadAttention, BertAttention, BertSelfAttention, BertSelfOutput, attentionBias, MASKED_SCORE, type AttentionOptions } from './attention.js';
export { BertModel, BertEmbeddings, BertEncoder, BertLayer, BertIntermediate, BertOutput, BertPooler, ModuleList, type BertModelOptions, type BertOutputs } from './bert.js';
export { activation, ACTIVATIONS, type Activation } from './activations.js';
export {
  encoderConfig, ENCODER_DEFAULTS, type EncoderConfig, type EncoderType, type EncoderConfigs, type EncoderConfigInit, type EncoderCommon,
  type BertEncoderConfig, type DistilBertEncoderConfig, type AlbertEncoderConfig, type ModernBertEncoderConfig, type GptNeoEncoderConfig,
} from './encoder-config.js';
export { LSTM, BiLSTM, type LstmOptions } from './lstm.js';
export { lstmRecurrence } from '../ops/sequence.js';
export { CharCNN, type CharCnnOptions } from './char-cnn.js';
export { createEncoder, type TokenEncoder } from './encoders.js';
export { DistilBertModel } from './distilbert.js';
export { AlbertModel } from './albert.js';
export { GptNeoModel } from './gpt-neo.js';
export { ModernBertModel, rotaryTables } from './modernbert.js';
export { quantizeDynamic } from './quantize.js';
