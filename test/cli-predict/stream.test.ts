// The corpus-scale layer of `predict` without a model: gzip input, the resumable output file (half-written
// lines, truncated gzip), and the selection of a shard's documents not yet done.

import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ResumableOutput } from '../../src/data/stream.js';
import { countIds, documentId, parseShard, selectItems, shardOfId } from '../../src/cli/predict-stream.js';
import { readItems, type Item } from '../../src/cli/predict.js';

const tmp = () => mkdtemp(join(tmpdir(), 'medner-stream-'));

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const exists = (path: string) => stat(path).then(() => true, () => false);

describe('gzip input', () => {
  it('a .gz file reads as its plain twin (LF and CRLF, BOM, no final newline); a cut one is a one-line error', async () => {
    const dir = await tmp();
    const text = '\ufeffone 😀\r\ntwo\n\nfour é';
    await writeFile(join(dir, 'a.txt'), text);
    await writeFile(join(dir, 'a.txt.gz'), gzipSync(Buffer.from(text)));
    const plain = await collect(readItems(join(dir, 'a.txt'), 'text'));
    const gz = await collect(readItems(join(dir, 'a.txt.gz'), 'text'));
    expect(gz.map((i) => [i.text, i.raw, i.fields])).toEqual(plain.map((i) => [i.text, i.raw, i.fields]));
    expect(gz.map((i) => i.text)).toEqual(['one 😀', 'two', '', 'four é']);
    const big = gzipSync(Buffer.from('{"text": "x"}\n'.repeat(20_000)));
    await writeFile(join(dir, 'cut.jsonl.gz'), big.subarray(0, big.length - 20));
    await expect(collect(readItems(join(dir, 'cut.jsonl.gz'), 'jsonl'))).rejects.toThrow(`${join(dir, 'cut.jsonl.gz')}: not a complete gzip file`);
    await writeFile(join(dir, 'bad.txt.gz'), gzipSync(Buffer.concat([Buffer.from('fine\n'), Buffer.from([0xc3, 0x28])])));
    await expect(collect(readItems(join(dir, 'bad.txt.gz'), 'text'))).rejects.toThrow(/bad\.txt\.gz: invalid UTF-8 near byte offset/);
  });
});

describe('ResumableOutput', () => {
  for (const name of ['out.jsonl', 'out.jsonl.gz']) {
    const read = async (path: string) => {
      const bytes = await readFile(path);
      return (name.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
    };

    it(`${name}: exists only when finished; a resumed run keeps the complete lines and drops a half-written one`, async () => {
      const dir = await tmp();
      const path = join(dir, name);
      const first = await ResumableOutput.open(path);
      expect(first.previousLines).toEqual([]);
      await first.output.write('{"id":1}\n');
      await first.output.write('{"id":2}\n{"id":3}\n');
      expect(await exists(path)).toBe(false);
      await first.output.abandon(); // as if killed here

      // Simulate a kill in the middle of a line: append half a line to the partial file.
      const partial = `${path}.partial`;
      if (name.endsWith('.gz')) {
        // A kill cuts the gzip stream: no trailer, the last deflate bytes missing, the last line half-written.
        const whole = gzipSync(Buffer.from('{"id":1}\n{"id":2}\n{"id":3}\n{"id":4, "te'));
        await writeFile(partial, whole.subarray(0, whole.length - 10));
      } else {
        await writeFile(partial, (await readFile(partial, 'utf8')) + '{"id":4, "te');
      }
      const second = await ResumableOutput.open(path, { resume: true });
      expect(second.previousLines).toEqual(['{"id":1}', '{"id":2}', '{"id":3}']);
      expect(second.droppedBytes).toBeGreaterThan(0);
      await second.output.write('{"id":4}\n');
      await second.output.finish();
      expect(await read(path)).toBe('{"id":1}\n{"id":2}\n{"id":3}\n{"id":4}\n');
      expect(await exists(partial)).toBe(false);

      // Resuming a finished file continues it; without --resume it starts over.
      const third = await ResumableOutput.open(path, { resume: true });
      expect(third.previousLines).toHaveLength(4);
      await third.output.finish();
      expect(await read(path)).toBe('{"id":1}\n{"id":2}\n{"id":3}\n{"id":4}\n');
      const fresh = await ResumableOutput.open(path);
      await fresh.output.write('{"id":9}\n');
      await fresh.output.finish();
      expect(await read(path)).toBe('{"id":9}\n');
    });
  }

  it('refuses to resume a .gz partial file that is not gzip, naming it', async () => {
    const dir = await tmp();
    await writeFile(join(dir, 'x.jsonl.gz.partial'), 'plain text\n');
    await expect(ResumableOutput.open(join(dir, 'x.jsonl.gz'), { resume: true })).rejects.toThrow(`${join(dir, 'x.jsonl.gz.partial')}: not a gzip stream`);
  });

  it('discard leaves nothing behind', async () => {
    const dir = await tmp();
    const { output } = await ResumableOutput.open(join(dir, 'x.jsonl'));
    await output.write('{"id":1}\n');
    await output.discard();
    expect(await exists(join(dir, 'x.jsonl.partial'))).toBe(false);
    expect(await exists(join(dir, 'x.jsonl'))).toBe(false);
  });
});

describe('shards', () => {
  it('parses I/N counted from 0 and refuses the rest', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4, by: 'position' });
    expect(parseShard('0/1', 'id')).toEqual({ index: 0, count: 1, by: 'id' });
    expect(() => parseShard('4/4')).toThrow(/0\.\.N-1/);
    expect(() => parseShard('1-4')).toThrow(/I\/N/);
    expect(() => parseShard('0/0')).toThrow(/0\.\.N-1/);
  });

  it('hashes ids with 32-bit FNV-1a (reproducible elsewhere) and spreads them evenly', () => {
    // FNV-1a("a") = 0xe40c292c, FNV-1a("foobar") = 0xbf9cf968: published test vectors.
    expect(shardOfId('a', 2 ** 32 - 1)).toBe(0xe40c292c % (2 ** 32 - 1));
    expect(shardOfId('foobar', 2 ** 32 - 1)).toBe(0xbf9cf968 % (2 ** 32 - 1));
    const counts = [0, 0, 0, 0];
    for (let pmid = 10_000_000; pmid < 10_004_000; pmid++) counts[shardOfId(String(pmid), 4)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(900);
  });
});

describe('selectItems', () => {
  const items: Item[] = [
    { text: 'a', fields: { id: 'A', text: 'a' } },
    { text: '', blank: true },
    { text: 'b', fields: { pmid: 12 } },
    { text: 'c', fields: { line: 7 } },
    { text: 'd', fields: { id: 'D' } },
  ];
  const run = async (options: Parameters<typeof selectItems>[1]) => {
    const stats = { read: 0, skipped: 0, selected: 0 };
    const selected = await collect(selectItems(items, options, stats));
    return { texts: selected.map((i) => i.text), stats };
  };

  it('shards by position (blank lines are no documents) and by id hash; the shards partition the input', async () => {
    expect(await run({})).toEqual({ texts: ['a', '', 'b', 'c', 'd'], stats: { read: 4, skipped: 0, selected: 4 } });
    expect((await run({ shard: parseShard('1/3') })).texts).toEqual(['b']);
    expect((await run({ shard: parseShard('0/3') })).texts).toEqual(['a', 'd']);
    const byId = await Promise.all([0, 1].map((i) => run({ shard: parseShard(`${i}/2`, 'id') })));
    expect(byId.flatMap((r) => r.texts).sort()).toEqual(['a', 'b', 'c', 'd']);
    for (const r of byId) for (const t of r.texts) expect(shardOfId(documentId(items.find((i) => i.text === t)!.fields)!, 2)).toBe(byId.indexOf(r));
  });

  it('skips the ids already done, and refuses a document without an id when it needs one', async () => {
    expect(await run({ done: countIds(['A', '12']) })).toEqual({ texts: ['', 'c', 'd'], stats: { read: 4, skipped: 2, selected: 2 } });
    const stats = { read: 0, skipped: 0, selected: 0 };
    await expect(collect(selectItems([{ text: 'x', fields: { text: 'x' }, where: 'in.jsonl:3' }], { done: new Map() }, stats))).rejects.toThrow('in.jsonl:3: no "id" field');
  });

  it('an input that repeats an id: each record is skipped as often as the output holds that id, never silently dropped', async () => {
    const twice = ['p', 'q', 'r'].map((text, i) => ({ text, fields: { id: i === 2 ? 'Y' : 'X', text } }));
    // The output holds X once (the first record): the second X is tagged again, then Y.
    const stats = { read: 0, skipped: 0, selected: 0 };
    expect((await collect(selectItems(twice, { done: countIds(['X']) }, stats))).map((i) => i.text)).toEqual(['q', 'r']);
    expect(stats).toEqual({ read: 3, skipped: 1, selected: 2 });
    // It holds both X records: only Y is left.
    expect((await collect(selectItems(twice, { done: countIds(['X', 'X']) }, { read: 0, skipped: 0, selected: 0 }))).map((i) => i.text)).toEqual(['r']);
  });
});
