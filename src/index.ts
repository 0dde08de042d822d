// medner's public API: what `import ... from 'medner'` gives, and what the README documents.
// Every name is chosen here; test/package/public-api.test.ts holds the list, so a new export is
// a decision, not an accident. Kernel-level helpers (ops that skip autograd, host reads, checkpoint
// name mapping) stay inside their modules.

// ---- engine: tensors, autograd, memory scopes, randomness, backends
export { Tensor, tensor, zeros, ones, full, arange, rand, randn, uniform, type CreateOptions } from './tensor/tensor.js';
export { tidy, keep } from './tensor/scope.js';
export { Rng, manualSeed } from './tensor/random.js';
export { noGrad, isGradEnabled } from './autograd/grad-mode.js';
export { getBackend, setBackend, useBackend, cpuBackend } from './backend/registry.js';
export type { Backend } from './backend/backend.js';
export * as ops from './ops/index.js';

// ---- layers, the linear-chain CRF, tagging models, optimizers, checkpoint files
export { Module, parameter } from './nn/module.js';
export * as nn from './nn/index.js';
export { CRF, crfLogPartition, logPartitionAutodiff, allowedTransitions, kBestPaths, CONSTRAINT_PENALTY } from './crf/index.js';
export type { CRFOptions, CRFConstraints, ConstraintMode, ConstraintScheme, NllOptions, AllowedTransitions, ScoredPath } from './crf/index.js';
export * as models from './models/index.js';
export * as optim from './optim/index.js';
export * as io from './io/index.js';

// ---- the NER toolkit: corpus readers and writers, label schemes, tokenizers, seqeval metrics
export * as data from './data/index.js';
export * as text from './text/index.js';
export * as metrics from './metrics/index.js';

// ---- training and tagging
export { trainTagger, loadTagger, Tagger, type TrainTaggerOptions } from './api.js';
export type { PredictedEntity } from './train/tag.js';
export { sampleCorpus } from './data/bundled.js';
export { train, type TrainOptions, type TrainResult } from './train/trainer.js';
export { DEFAULTS as TRAIN_DEFAULTS, defaultsFor, type TrainConfig, type ModelKind, type CorpusFormat } from './train/config.js';
// Models as bytes: what a browser page fetched or was handed by a file input, and the files a page saves.
export { loadCheckpointFromFiles, memoryFiles, checkpointFileContents, type CheckpointFiles } from './train/checkpoint.js';
