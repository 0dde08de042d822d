// Public entry point of the text toolkit: tokenizers, alignment, windows, segmentation.
// The BERT character classes (isBertPunctuation, ...) stay inside the tokenizer.
export { BasicTokenizer, type BasicTokenizerOptions, type BasicWord } from './basic-tokenizer.js';
export * from './wordpiece.js';
export * from './alignment.js';
export * from './windows.js';
export * from './segment.js';
