// The library API end to end on the sources, with a tiny model. The README's library example
// itself runs, as written, against the packed tarball in test/package/pack.test.ts.

import { expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainTagger, loadTagger } from '../../src/index.js';

it('trains, evaluates and predicts in about ten lines', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'medner-api-')), 'run');
  const corpus = 'test/fixtures/data/ncbi-disease/sample.iob.tsv';
  // --- as in the README (a tiny model, a fixture corpus) ---
  const result = await trainTagger({ train: corpus, dev: corpus, test: corpus, out, config: { epochs: 2, wordDim: 16, lstmHidden: 16, charFilters: 8 } });
  console.log(`test F1 ${result.test!.f1.toFixed(3)}`);
  const tagger = await loadTagger(out);
  const entities = await tagger.predict('Germline mutations of BRCA1 cause hereditary breast cancer.');
  for (const e of entities) console.log(`${e.label} ${e.start}-${e.end} "${e.text}" ${e.score}`);
  const scores = await tagger.evaluate(corpus);
  // --- end of example ---
  expect(scores.micro.f1).toBeCloseTo(result.test!.f1, 10);
  for (const e of entities) expect('Germline mutations of BRCA1 cause hereditary breast cancer.'.slice(e.start, e.end)).toBe(e.text);
  tagger.dispose();
});
