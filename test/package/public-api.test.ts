// The public API, name by name: what `import ... from 'medner'` gives. A new export (or a
// lost one) fails here until this list is changed with it, so the API changes on purpose.
// The README's library section describes the same names.

import { expect, it } from 'vitest';
import * as medner from '../../src/index.js';
import { BINARY_OPS, UNARY_OPS } from '../../src/ops/tables/index.js';

const TOP_LEVEL = [
  'CONSTRAINT_PENALTY', 'CRF', 'Module', 'Rng', 'TRAIN_DEFAULTS', 'Tagger', 'Tensor', 'allowedTransitions', 'arange', 'cpuBackend',
  'crfLogPartition', 'data', 'defaultsFor', 'full', 'getBackend', 'io', 'isGradEnabled', 'kBestPaths', 'keep', 'loadTagger',
  'logPartitionAutodiff', 'manualSeed', 'metrics', 'models', 'nn', 'noGrad', 'ones', 'ops', 'optim', 'parameter', 'rand', 'randn',
  'sampleCorpus', 'setBackend', 'tensor', 'text', 'tidy', 'train', 'trainTagger', 'uniform', 'useBackend', 'zeros',
];

const NAMESPACES: Record<string, string[]> = {
  // Every row of the pointwise op tables (src/ops/tables/) is an op of its name, plus these.
  ops: [
    ...UNARY_OPS, ...BINARY_OPS, 'unaryOps', 'binaryOps',
    'argmax', 'concat', 'crossEntropy', 'dropout', 'embedding', 'expand', 'indexSelect', 'layerNorm', 'logSoftmax', 'logsumexp', 'maskedFill',
    'matmul', 'max', 'mean', 'min', 'permute', 'reshape', 'slice', 'softmax', 'squeeze', 'stack', 'sum', 'sumSquares', 'transpose', 'unsqueeze', 'where',
  ],
  nn: [
    'AlbertModel', 'BERT_BASE', 'BertAttention', 'BertEmbeddings', 'BertEncoder', 'BertIntermediate', 'BertLayer', 'BertModel', 'BertOutput',
    'BertPooler', 'BertSelfAttention', 'BertSelfOutput', 'BiLSTM', 'CharCNN', 'DistilBertModel', 'Dropout', 'Embedding', 'LSTM', 'LayerNorm',
    'Linear', 'MASKED_SCORE', 'Module', 'ModuleList', 'MultiHeadAttention', 'activation', 'attentionBias', 'bertConfig', 'bertConfigOf',
    'createEncoder', 'encoderFromConfigJson', 'lstmRecurrence', 'parameter',
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
    'SAFETENSORS_DTYPE_BYTES', 'SafetensorsReader', 'checkpointFiles', 'loadSafetensors', 'parseHfConfig', 'parseSafetensorsHeader', 'readHfConfig',
    'saveSafetensors', 'toHfConfigJson',
  ],
  data: [
    'MAX_SENTENCE_TOKENS', 'auditDocument', 'convertScheme', 'countEntityTypes', 'documentToSentences', 'emptyCorpusReport', 'formatBratAnn', 'formatConll', 'formatJsonl',
    'formatPubtator', 'groupRareTypes', 'isValidTag', 'mapEntityTypes', 'parseBratAnn', 'parseConll', 'parseJsonl', 'parsePubtator',
    'parseScheme', 'parseTag', 'readBratDirectory', 'readBratDocument', 'readConllFile', 'readJsonlFile', 'readLabelNames', 'readPubtatorFile', 'readPubtatorLines', 'repairTags',
    'resolveOverlaps', 'sentencesToDocuments', 'setAsideCount', 'summarizeReport', 'spansToTags', 'tagsToSpans', 'validateTags',
  ],
  text: [
    'BasicTokenizer', 'WordPieceTokenizer', 'centrality', 'firstSubwordIndex', 'labelSubwords', 'mergeWindowPredictions', 'slidingWindows',
    'splitSentences', 'subwordsToWords', 'tokenizeWords', 'tokensInCharSpan',
  ],
  metrics: [
    'analyzeErrors', 'classificationReport', 'entitiesDefault', 'entitiesStrict', 'entityScores', 'extractEntities', 'f1Score',
    'formatErrorAnalysis', 'precisionScore', 'recallScore', 'tokenAccuracy',
  ],
};

/** Never public: kernel-level ops that skip autograd, host reads, internal copies and checks. */
const INTERNAL = ['unaryKernel', 'binaryKernel', 'reshapeOwned', 'sumToShape', 'readHost', 'requireHost', 'lengthsFromMask', 'cloneTensor', 'crfShape', 'out'];

const HINT = 'an export added or removed: if it is meant to be public, change the list here (and the README library table)';

it('exports exactly the documented names', () => {
  expect(Object.keys(medner).sort(), `top level: ${HINT}`).toEqual([...TOP_LEVEL].sort());
  for (const [name, expected] of Object.entries(NAMESPACES)) {
    expect(Object.keys(medner[name as keyof typeof medner]).sort(), `${name}: ${HINT}`).toEqual([...expected].sort());
  }
});

it('exports no kernel-level helper, at the top or in any namespace', () => {
  const namespaces = Object.keys(NAMESPACES).map((n) => Object.keys(medner[n as keyof typeof medner]));
  for (const names of [Object.keys(medner), ...namespaces]) for (const internal of INTERNAL) expect(names).not.toContain(internal);
});
