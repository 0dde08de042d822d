// Public entry point of the text toolkit: tokenizers, alignment, windows, segmentation.
export * from './basic-tokenizer.js';
export * from './wordpiece.js';
export * from './alignment.js';
export * from './windows.js';
export * from './segment.js';
