// What marks a medner checkpoint's config.json (read by checkpoint.ts and by the Hugging Face reader alike).
export const CHECKPOINT_FORMAT = 'medner-checkpoint';
export const CHECKPOINT_VERSION = 1;
/**
 * int8 checkpoints (medner quantize: config.json's `quantization`, I8 weights) are version 2, so a medner
 * from before them refuses one as newer than itself rather than failing on its weights.
 */
export const QUANTIZED_CHECKPOINT_VERSION = 2;
