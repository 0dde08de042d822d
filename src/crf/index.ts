// The linear-chain CRF: the layer, its log-partition op, label-scheme constraints, k-best decoding.
export { CRF, type CRFOptions, type CRFConstraints, type ConstraintMode, type NllOptions, type MaskInput, type TagsInput, type AllowedTagsInput } from './crf.js';
export { logPartitionAutodiff } from './log-partition.js';
export { crfLogPartition } from '../ops/sequence.js';
export { allowedTransitions, CONSTRAINT_PENALTY, type AllowedTransitions, type ConstraintScheme } from './constraints.js';
export { kBestPaths, type ScoredPath } from './kbest.js';
