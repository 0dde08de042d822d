// Optimizers, learning-rate schedules, gradient clipping and class weights.
export { Optimizer, isNoDecayParameter } from './optimizer.js';
export type { NamedParameters, ParamGroup, ParamGroupOptions, OptimizerOptions, OptimizerState, OptimizerGroupState } from './optimizer.js';
export { AdamW, type AdamWOptions } from './adamw.js';
export { SGD, type SGDOptions } from './sgd.js';
export { LrScheduler, constantSchedule, linearScheduleWithWarmup, cosineScheduleWithWarmup, makeSchedule } from './schedule.js';
export type { LrLambda, ScheduleKind } from './schedule.js';
export { clipGradNorm } from './clip.js';
export { countTags, inverseFrequencyWeights, type ClassWeightOptions } from './class-weights.js';
