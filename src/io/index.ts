// Checkpoint I/O: safetensors files and Hugging Face model directories.
export * from './safetensors.js';
export * from './hf-config.js';
