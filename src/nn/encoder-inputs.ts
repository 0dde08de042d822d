// Input checks shared by the DistilBERT and ALBERT encoders (BertModel has its own, older copy):
// a wrong mask or token type is reported here, by name and shape, not deep inside a kernel.
// B = batch, S = subword positions

import type { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { readHost } from './host.js';

/** What every encoder's forward takes beside the ids (HF's attention_mask and token_type_ids). */
export interface EncoderInputs {
  /** f32 [B, S], 1 = real subword, 0 = padding; position 0 ([CLS]) must be 1. */
  attentionMask?: Tensor | null;
  /** i32 [B, S] segment ids; absent = all segment 0. */
  tokenTypeIds?: Tensor | null;
}

/**
 * Checks the mask and token types against inputIds [B, S]; returns the mask (or null). Token
 * types must be < typeVocabSize (1 for a model without a token-type table: all zeros).
 */
export function checkEncoderInputs(who: string, inputIds: Tensor, options: EncoderInputs, typeVocabSize: number): Tensor | null {
  if (inputIds.rank !== 2 || inputIds.dtype !== 'i32') throw new Error(`${who}: inputIds must be i32 [B, S], got ${inputIds.dtype} ${fmt(inputIds.shape)}`);
  const [batch, length] = inputIds.shape as [number, number];
  const mask = options.attentionMask ?? null;
  if (mask) {
    if (mask.rank !== 2 || mask.shape[0] !== batch || mask.shape[1] !== length || mask.dtype !== 'f32') {
      throw new Error(`${who}: attentionMask must be f32 ${fmt(inputIds.shape)} like inputIds, got ${mask.dtype} ${fmt(mask.shape)}`);
    }
    const values = readHost(mask);
    if (values) {
      for (let b = 0; b < batch; b++) {
        if (values[b * length] !== 1) throw new Error(`${who}: attentionMask row ${b} starts with ${values[b * length]}; position 0 ([CLS]) must be attended`);
      }
    }
  }
  const types = options.tokenTypeIds ?? null;
  if (types) {
    if (types.rank !== 2 || types.shape[0] !== batch || types.shape[1] !== length || types.dtype !== 'i32') {
      throw new Error(`${who}: tokenTypeIds must be i32 ${fmt(inputIds.shape)} like inputIds, got ${types.dtype} ${fmt(types.shape)}`);
    }
    const values = readHost(types);
    if (values) {
      for (let i = 0; i < values.length; i++) {
        if (values[i]! < 0 || values[i]! >= typeVocabSize) {
          const where = `[${Math.floor(i / length)}, ${i % length}]`;
          throw new Error(`${who}: tokenTypeIds${where} is ${values[i]}, but the model has ${typeVocabSize === 1 ? 'no token types (only 0 is allowed)' : `${typeVocabSize} token types`}`);
        }
      }
    }
  }
  return mask;
}
