// Public entry point of the metrics: seqeval-exact entity scores, reports and error analysis.
export * from './entities.js';
export * from './scores.js';
export * from './errors.js';
