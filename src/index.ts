// medner's public API: the engine (tensors, ops, autograd, backends) and the NER toolkit.
export { Tensor, tensor, zeros, ones, full, arange, rand, randn, uniform } from './tensor/tensor.js';
export { tidy, keep } from './tensor/scope.js';
export { Rng, manualSeed } from './tensor/random.js';
export { noGrad, isGradEnabled } from './autograd/grad-mode.js';
export { getBackend, setBackend, cpuBackend } from './backend/registry.js';
export type { Backend } from './backend/backend.js';
export * as ops from './ops/index.js';
export { Module, parameter } from './nn/module.js';
export * from './crf/index.js';
export * as optim from './optim/index.js';
export * as io from './io/index.js';
export * as nn from './nn/index.js';
export * as models from './models/index.js';
export { trainTagger, loadTagger, Tagger, type TrainTaggerOptions } from './api.js';
export { train, type TrainOptions, type TrainResult } from './train/trainer.js';
export { DEFAULTS as TRAIN_DEFAULTS, defaultsFor, type TrainConfig } from './train/config.js';
