// The public API, name by name: what `import ... from 'medner'` gives. A new export (or a
// lost one) at the top or in an engine namespace fails here until this list is changed with
// it, so the API changes on purpose.
// The README's library section describes the same names.

import { expect, it } from 'vitest';
import * as medner from '../../src/index.js';
import { BINARY_OPS, UNARY_OPS } from '../../src/ops/tables/index.js';

const TOP_LEVEL = [
  'CONSTRAINT_PENALTY', 'CRF', 'Module', 'Rng', 'TRAIN_DEFAULTS', 'Tagger', 'Tensor', 'allowedTransitions', 'arange', 'checkpointFileContents', 'cpuBackend',
  'crfLogPartition', 'data', 'defaultsFor', 'full', 'getBackend', 'io', 'isGradEnabled', 'kBestPaths', 'keep', 'loadCheckpointFromFiles', 'loadTagger',
  'logPartitionAutodiff', 'manualSeed', 'memoryFiles', 'metrics', 'models', 'nn', 'noGrad', 'ones', 'ops', 'optim', 'parameter', 'rand', 'randn',
  'sampleCorpus', 'setBackend', 'tensor', 'text', 'tidy', 'train', 'trainTagger', 'uniform', 'useBackend', 'zeros',
];

const NAMESPACES: Record<string, string[]> = {
  // Every row of the pointwise op tables (src/ops/tables/) is an op of its name, plus these.
  ops: [
    ...UNARY_OPS, ...BINARY_OPS, 'unaryOps', 'binaryOps',
    'argmax', 'concat', 'crossEntropy', 'dropout', 'embedding', 'expand', 'indexSelect', 'layerNorm', 'logSoftmax', 'logsumexp', 'maskedFill',
    'matmul', 'max', 'mean', 'min', 'permute', 'reshape', 'slice', 'softmax', 'squeeze', 'stack', 'sum', 'sumSquares', 'transpose', 'unsqueeze', 'where',
    'lstmRecurrence', 'crfLogPartition', 'crfViterbi', 'crfMarginals', 'semiCrfLogPartition', 'semiCrfViterbi', 'semiCrfMarginals', 'clone', 'adamwUpdate',
    'rotary', 'slidingWindowBias', 'geglu', 'quantizePerChannel', 'dequantize', 'linearInt8', 'lstmRecurrenceInt8',
  ],
  nn: [
    'ACTIVATIONS', 'AlbertModel', 'BertAttention', 'BertEmbeddings', 'BertEncoder', 'BertIntermediate', 'BertLayer', 'BertModel', 'BertOutput',
    'BertPooler', 'BertSelfAttention', 'BertSelfOutput', 'BiLSTM', 'CharCNN', 'DistilBertModel', 'Dropout', 'ENCODER_DEFAULTS', 'Embedding', 'GptNeoModel', 'LSTM', 'LayerNorm',
    'Linear', 'MASKED_SCORE', 'Module', 'ModernBertModel', 'ModuleList', 'MultiHeadAttention', 'activation', 'attentionBias', 'rotaryTables',
    'createEncoder', 'encoderConfig', 'lstmRecurrence', 'parameter', 'quantizeDynamic',
  ],
  models: [
    'BertBiLstmCrf', 'BertCrf', 'BertSoftmax', 'BertTagger', 'BiLstmCrf', 'checkSubwords', 'checkWords', 'firstSubwordPooling', 'headDecode',
    'headLoss', 'meanSubwordPooling', 'wordSpans',
  ],
  optim: [
    'AdamW', 'LrScheduler', 'Optimizer', 'SGD', 'clipGradNorm', 'constantSchedule', 'cosineScheduleWithWarmup', 'countTags',
    'inverseFrequencyWeights', 'isNoDecayParameter', 'linearScheduleWithWarmup', 'makeSchedule',
  ],
  io: [
    'SAFETENSORS_DTYPE_BYTES', 'SafetensorsReader', 'checkpointFiles', 'fromHfConfigJson', 'loadSafetensors', 'loadSafetensorsBytes', 'parseHfConfig', 'parseSafetensorsHeader',
    'readHfConfig', 'saveSafetensors', 'serializeSafetensors', 'toHfConfigJson',
  ],
};

/**
 * The NER toolkit's namespaces grow with the readers and metrics (their index files export
 * what their modules export); these names, the ones the README documents, must stay.
 */
const TOOLKIT: Record<string, string[]> = {
  data: [
    'parseConll', 'readConllFile', 'formatConll', 'parseBratAnn', 'readBratDirectory', 'readBratDocument', 'formatBratAnn', 'parsePubtator',
    'readPubtatorFile', 'formatPubtator', 'parseJsonl', 'readJsonlFile', 'formatJsonl', 'convertScheme', 'tagsToSpans', 'spansToTags',
    'documentToSentences', 'sentencesToDocuments', 'mapEntityTypes',
  ],
  text: ['BasicTokenizer', 'WordPieceTokenizer', 'splitSentences', 'tokenizeWords', 'slidingWindows', 'labelSubwords'],
  metrics: ['entityScores', 'classificationReport', 'tokenAccuracy', 'analyzeErrors', 'extractEntities', 'f1Score', 'precisionScore', 'recallScore'],
};

/** Never public: kernel-level ops that skip autograd, host reads, internal copies and checks. */
const INTERNAL = [
  'unaryKernel', 'binaryKernel', 'reshapeOwned', 'sumToShape', 'readHost', 'requireHost', 'lengthsFromMask', 'cloneTensor', 'crfShape', 'out',
  'readUtf8File', 'decodeUtf8', 'readLinesStrict', 'numberedLines', 'firstInvalidUtf8Offset', 'isBertPunctuation', 'floatToHalfBits', 'mapCheckpointNames',
];

const HINT = 'an export added or removed: if it is meant to be public, change the list here (and the README library table)';

it('exports exactly the documented names', () => {
  expect(Object.keys(medner).sort(), `top level: ${HINT}`).toEqual([...TOP_LEVEL].sort());
  for (const [name, expected] of Object.entries(NAMESPACES)) {
    expect(Object.keys(medner[name as keyof typeof medner]).sort(), `${name}: ${HINT}`).toEqual([...expected].sort());
  }
});

it('keeps the documented readers, writers, tokenizers and metrics', () => {
  for (const [name, expected] of Object.entries(TOOLKIT)) expect(Object.keys(medner[name as keyof typeof medner]), name).toEqual(expect.arrayContaining(expected));
});

it('exports no kernel-level helper, at the top or in any namespace', () => {
  const namespaces = [...Object.keys(NAMESPACES), ...Object.keys(TOOLKIT)].map((n) => Object.keys(medner[n as keyof typeof medner]));
  for (const names of [Object.keys(medner), ...namespaces]) for (const internal of INTERNAL) expect(names).not.toContain(internal);
});
