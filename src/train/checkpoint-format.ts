// What marks a medner checkpoint's config.json (read by checkpoint.ts and by the Hugging Face reader alike).
export const CHECKPOINT_FORMAT = 'medner-checkpoint';
export const CHECKPOINT_VERSION = 1;
