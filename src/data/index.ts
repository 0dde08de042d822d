// Public entry point of the data toolkit: corpus types, readers, writers, label schemes and maps.
// The strict UTF-8 file readers (files.ts) are the readers' helpers, not exported.
export * from './types.js';
export * from './schemes.js';
export * from './documents.js';
export * from './conll.js';
export * from './brat.js';
export * from './pubtator.js';
export * from './jsonl.js';
export * from './label-maps.js';
export { OffsetMap, codePointLength } from './offsets.js';
export { inferCorpusFormat, looksLikePubtator } from './formats.js';
