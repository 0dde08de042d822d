// The bundled BC5CDR sample (src/data/sample/, 1,200 sentences, CC BY 4.0): what
// `medner train` trains on without --train. The build copies it to dist/data/sample/,
// so the same relative path finds it from the sources and from the installed package.

import { platform } from '../platform/index.js';

const file = (name: string) => platform.filePathOf(new URL(`./sample/${name}`, import.meta.url));

/** Paths of the bundled corpus's train, dev and test splits (CoNLL, BIO, Chemical and Disease). */
export const sampleCorpus: { readonly train: string; readonly dev: string; readonly test: string } = Object.freeze({
  train: file('bc5cdr-train.tsv'),
  dev: file('bc5cdr-dev.tsv'),
  test: file('bc5cdr-test.tsv'),
});
