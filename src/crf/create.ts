// Pick a CRF variant by name: the one place that maps `--crf` to a class.

import { LinearChainCrf } from './linear.js';
import { SemiMarkovCrfVariant } from './semi-markov.js';
import { CRF_VARIANTS, type CrfSpec, type CrfVariant } from './variant.js';

/** The score columns per word a variant asks of the encoder, known before the CRF is built. */
export function crfScoreColumns(spec: CrfSpec): number {
  if (spec.variant === 'semi-markov') return SemiMarkovCrfVariant.segmentLabelsOf(spec.labels).length;
  return spec.labels.length;
}

export function createCrf(spec: CrfSpec): CrfVariant {
  if (spec.variant === 'linear') return new LinearChainCrf(spec.labels.length);
  if (spec.variant === 'semi-markov') return new SemiMarkovCrfVariant(spec.labels, spec.scheme, { maxSegmentLength: spec.maxSegmentLength });
  throw new Error(`unknown CRF variant '${String(spec.variant)}' (known: ${CRF_VARIANTS.join(', ')})`);
}
