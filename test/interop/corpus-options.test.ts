// Label maps, rare-type grouping and JSONL options on train, eval and convert; the seed studies' workflow
// (train on one corpus's fine types, score on another corpus with collapsed types); snake_case keys and
// no absolute paths in what train writes; train refusing to overwrite a run.

import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatJsonl, parseJsonl, readLabelNames } from '../../src/data/jsonl.js';
import { parseConll } from '../../src/data/conll.js';
import { parsePubtator } from '../../src/data/pubtator.js';
import { BC5CDR_IOB, BC5CDR_PUBTATOR, medner, scratch } from './helpers.js';

const NCBI_PUBTATOR = 'test/fixtures/data/ncbi-disease/sample.pubtator.txt';
const TINY = { word_dim: 16, char_dim: 8, char_filters: 8, lstm_hidden: 16, batch_size: 8, epochs: 2 };

function tinyConfig(dir: string): string {
  writeFileSync(join(dir, 'tiny.json'), JSON.stringify(TINY));
  return join(dir, 'tiny.json');
}

describe('the seed workflow: fine types in training, collapsed types in evaluation', () => {
  it('trains on NCBI-disease fine types with rare ones grouped, then scores on BC5CDR through a label map', async () => {
    const dir = scratch();
    const out = join(dir, 'ncbi');
    await medner('train', '--train', NCBI_PUBTATOR, '--out', out, '--config', tinyConfig(dir), '--min-type-count', '2', '--other-type', 'OtherDisease', '--no-progress');
    const config = JSON.parse(readFileSync(join(out, 'best', 'config.json'), 'utf8'));
    // CompositeMention and DiseaseClass have one mention each in the fixture: grouped.
    expect(config.type_map).toEqual({ CompositeMention: 'OtherDisease', DiseaseClass: 'OtherDisease' });
    expect(new Set(config.labels.map((l: string) => l.replace(/^[BI]-/, '')))).toEqual(new Set(['O', 'SpecificDisease', 'Modifier', 'OtherDisease']));

    // Without a map every type is unmatched, and eval says so.
    const plain = JSON.parse(await medner('eval', '--model', out, '--data', BC5CDR_PUBTATOR, '--json'));
    expect(plain.unmatched_types).toEqual({ model_only: ['Modifier', 'OtherDisease', 'SpecificDisease'], data_only: ['Chemical', 'Disease'] });
    expect(await medner('eval', '--model', out, '--data', BC5CDR_PUBTATOR)).toMatch(/unmatched types: the model predicts Modifier, OtherDisease, SpecificDisease, absent from the data .*the data has Chemical, Disease/);

    // The seed studies' map: every disease type to Disease, chemicals out of the evaluation.
    const map = join(dir, 'to-disease.json');
    writeFileSync(map, JSON.stringify({ SpecificDisease: 'Disease', Modifier: 'Disease', OtherDisease: 'Disease', Chemical: null }));
    const mapped = JSON.parse(await medner('eval', '--model', out, '--data', BC5CDR_PUBTATOR, '--json', '--label-map', map));
    expect(mapped.unmatched_types).toEqual({ model_only: [], data_only: [] });
    const diseases = parsePubtator(readFileSync(BC5CDR_PUBTATOR, 'utf8')).flatMap((d) => d.entities).filter((e) => e.type === 'Disease').length;
    expect(Object.keys(mapped.per_type)).toEqual(['Disease']);
    expect(mapped.per_type.Disease.support).toBe(diseases);
  }, 120_000);

  it('convert applies a label map and rare-type grouping to documents and to token tags', async () => {
    const dir = scratch();
    const map = join(dir, 'map.json');
    writeFileSync(map, JSON.stringify({ SpecificDisease: 'Disease', Modifier: null }));
    await medner('convert', '--label-map', map, '--min-type-count', '2', NCBI_PUBTATOR, join(dir, 'out.pubtator'));
    const types = parsePubtator(readFileSync(join(dir, 'out.pubtator'), 'utf8')).flatMap((d) => d.entities.map((e) => e.type));
    expect(types.sort()).toEqual([...Array(2).fill('Other'), ...Array(6).fill('Disease')].sort());
    await medner('convert', '--label-map', map, NCBI_PUBTATOR, join(dir, 'out.tsv'));
    const tags = new Set(parseConll(readFileSync(join(dir, 'out.tsv'), 'utf8')).flatMap((s) => s.tags));
    expect([...tags].sort()).toEqual(['B-CompositeMention', 'B-Disease', 'B-DiseaseClass', 'I-CompositeMention', 'I-Disease', 'I-DiseaseClass', 'O']);
    writeFileSync(join(dir, 'bad.json'), '{"A": 3}');
    await expect(medner('convert', '--label-map', join(dir, 'bad.json'), NCBI_PUBTATOR, join(dir, 'x.tsv'))).resolves.toBe('');
    expect(readdirSync(dir)).not.toContain('x.tsv');
  });
});

describe('JSONL as Hugging Face datasets writes it', () => {
  const NAMES = ['O', 'B-Chemical', 'I-Chemical', 'B-Disease', 'I-Disease'];

  it('integer ner_tags with label names from a file, a features JSON or id2label; custom fields; round trip', async () => {
    const dir = scratch();
    const records = [
      { id: '0', words: ['Naloxone', 'reverses', 'hypertension', '.'], labels: [1, 0, 3, 0] },
      { id: '1', words: ['Lidocaine', '-', 'induced', 'cardiac', 'asystole'], labels: [1, 0, 0, 3, 4] },
    ];
    const input = join(dir, 'train.jsonl');
    writeFileSync(input, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeFileSync(join(dir, 'labels.txt'), NAMES.join('\n') + '\n');
    writeFileSync(join(dir, 'dataset_info.json'), JSON.stringify({ features: { id: { dtype: 'string', _type: 'Value' }, labels: { feature: { names: NAMES, _type: 'ClassLabel' }, _type: 'Sequence' } } }));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ id2label: Object.fromEntries(NAMES.map((n, i) => [String(i), n])) }));
    for (const file of ['labels.txt', 'dataset_info.json', 'config.json']) expect(readLabelNames(join(dir, file), 'labels')).toEqual(NAMES);

    // Without names, integer tags are refused with the file and line.
    await expect(medner('convert', '--tokens-field', 'words', '--tags-field', 'labels', input, join(dir, 'x.tsv'))).resolves.toBe('');
    // With names: JSONL -> CoNLL gives the strings; CoNLL -> JSONL with --labels gives the integers back.
    await medner('convert', '--labels', join(dir, 'dataset_info.json'), '--tokens-field', 'words', '--tags-field', 'labels', input, join(dir, 'a.tsv'));
    const sentences = parseConll(readFileSync(join(dir, 'a.tsv'), 'utf8'));
    expect(sentences[1]).toMatchObject({ tokens: records[1]!.words, tags: ['B-Chemical', 'O', 'O', 'B-Disease', 'I-Disease'] });
    await medner('convert', '--labels', join(dir, 'labels.txt'), '--tokens-field', 'words', '--tags-field', 'labels', join(dir, 'a.tsv'), join(dir, 'b.jsonl'));
    const back = readFileSync(join(dir, 'b.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(back.map((r) => ({ words: r.words, labels: r.labels }))).toEqual(records.map(({ words, labels }) => ({ words, labels })));
    // The library round trip, strings and integers.
    expect(parseJsonl(formatJsonl(sentences, { labelNames: NAMES }), { labelNames: NAMES })).toEqual(sentences);
    expect(parseJsonl(formatJsonl(sentences))).toEqual(sentences);
    expect(() => formatJsonl([{ tokens: ['x'], tags: ['B-Gene'] }], { labelNames: NAMES })).toThrow("tag 'B-Gene' is not in the label list");
  });

  it('train and eval read integer-tagged JSONL with --labels', async () => {
    const dir = scratch();
    const names = ['O', 'B-Chemical', 'I-Chemical', 'B-Disease', 'I-Disease'];
    const sentences = parseConll(readFileSync(BC5CDR_IOB, 'utf8'));
    writeFileSync(join(dir, 'train.jsonl'), formatJsonl(sentences, { labelNames: names }));
    writeFileSync(join(dir, 'labels.txt'), names.join('\n'));
    const out = join(dir, 'run');
    await medner('train', '--train', join(dir, 'train.jsonl'), '--labels', join(dir, 'labels.txt'), '--out', out, '--config', tinyConfig(dir), '--no-progress');
    const scores = JSON.parse(await medner('eval', '--model', out, '--data', join(dir, 'train.jsonl'), '--labels', join(dir, 'labels.txt'), '--json'));
    expect(scores.per_type.Chemical.support).toBeGreaterThan(0);
  }, 120_000);
});

describe('what train writes', () => {
  it('snake_case keys and no absolute paths; a non-empty --out is refused without --overwrite', async () => {
    const dir = scratch();
    const out = join(dir, 'run');
    const args = ['train', '--train', BC5CDR_IOB, '--dev', BC5CDR_IOB, '--test', BC5CDR_IOB, '--out', out, '--config', tinyConfig(dir), '--no-progress'];
    await medner(...args);
    const snake = (keys: string[]) => keys.every((k) => /^[a-z0-9]+(_[a-z0-9]+)*$/.test(k));
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    for (const line of metrics) expect(snake(Object.keys(line)), JSON.stringify(line)).toBe(true);
    expect(metrics[0]).toHaveProperty('train_loss');
    expect(metrics.at(-1)).toHaveProperty('per_type');
    const config = JSON.parse(readFileSync(join(out, 'best', 'config.json'), 'utf8'));
    expect(snake(Object.keys(config))).toBe(true);
    expect(snake(Object.keys(config.train))).toBe(true);
    expect(snake(Object.keys(config.metrics))).toBe(true);
    const state = JSON.parse(readFileSync(join(out, 'last', 'trainer_state.json'), 'utf8'));
    expect(snake(Object.keys(state))).toBe(true);
    for (const file of ['best/config.json', 'best/README.md', 'last/config.json', 'report.html', 'metrics.jsonl']) {
      const text = readFileSync(join(out, file), 'utf8');
      expect(text, file).not.toContain(dir);
      expect(text, file).not.toContain(process.cwd());
    }
    expect(config.data.train).toBe('sample.iob.tsv');
    // Again into the same directory: refused, then allowed with --overwrite.
    await expect(medner(...args)).rejects.toThrow('the output directory is not empty; pass --overwrite');
    await medner(...args, '--overwrite');
  }, 120_000);
});
