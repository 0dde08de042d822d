// The linear-chain CRF as a CRF variant: the CRF layer of src/crf/crf.ts as it is (its PyTorch
// parity and brute-force tests cover it), named and sized for the variant interface.

import { CRF, type CRFOptions } from './crf.js';
import type { CrfVariant } from './variant.js';

export class LinearChainCrf extends CRF implements CrfVariant {
  readonly variant = 'linear' as const;
  get numScores(): number {
    return this.numTags;
  }
  constructor(numTags: number, options: CRFOptions = {}) {
    super(numTags, options);
  }
}
