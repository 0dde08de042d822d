// Public entry point of the text toolkit: tokenizers, alignment, windows, segmentation.
// The BERT character classes (isBertPunctuation, ...) stay inside the tokenizer.
export { BasicTokenizer, type BasicTokenizerOptions, type BasicWord } from './basic-tokenizer.js';
export * from './wordpiece.js';
export * from './subword-tokenizer.js';
export { HfTokenizer, type TokenizerJson, type SpecialTokenNames } from './hf-tokenizer.js';
export { loadTokenizer, loadTokenizerFiles, type TokenizerFileReader } from './load-tokenizer.js';
export { readSentencePieceModel, type SentencePieceModel } from './sentencepiece-model.js';
export * from './alignment.js';
export * from './windows.js';
export * from './segment.js';
