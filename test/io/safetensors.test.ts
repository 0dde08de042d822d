// safetensors: a file in the reference layout (tools/reference/make_safetensors_fixture.py),
// byte-identical writing, round trips in F32/F16/BF16, atomic writes, and corrupt
// files that each give one line naming the file and the byte offset.

import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Rng, keep, randn, tensor, type Tensor } from '../../src/index.js';
import { SafetensorsReader, floatToBFloat16Bits, floatToHalfBits, loadSafetensors, parseSafetensorsHeader, saveSafetensors } from '../../src/io/safetensors.js';
import { AdamW } from '../../src/optim/index.js';

const fixtures = new URL('../fixtures/io/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'medner-safetensors-'));
const expected = JSON.parse(readFileSync(join(fixtures, 'reference.expected.json'), 'utf8')) as {
  metadata: Record<string, string>;
  tensors: Record<string, { dtype: string; shape: number[]; values: number[] }>;
};

/** A file from a header (object or raw text) and data bytes; `length` overrides the u64 header length. */
function craft(name: string, header: unknown, data: Uint8Array = new Uint8Array(0), length?: bigint): string {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const bytes = new Uint8Array(8 + text.length + data.length);
  new DataView(bytes.buffer).setBigUint64(0, length ?? BigInt(text.length), true);
  bytes.set(text, 8);
  bytes.set(data, 8 + text.length);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function openError(path: string): string {
  try {
    SafetensorsReader.open(path).close();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${path} opened without error`);
}

describe('reading the reference layout', () => {
  it('reads every dtype of the fixture into f32 / i32 with the values torch holds', () => {
    const reader = SafetensorsReader.open(join(fixtures, 'reference.safetensors'));
    expect(reader.header.metadata).toEqual(expected.metadata);
    expect(reader.header.dataOffset % 8).toBe(0);
    expect(reader.names().sort()).toEqual(Object.keys(expected.tensors).sort());
    for (const [name, want] of Object.entries(expected.tensors)) {
      const t = reader.readTensor(name);
      expect(t.shape, name).toEqual(want.shape);
      expect(t.dtype, name).toBe(['I64', 'I32', 'U8'].includes(want.dtype) ? 'i32' : 'f32');
      // F16 and BF16 widen to f32 exactly; F64 rounds to the nearest f32.
      expect(Array.from(t.dataSync()), name).toEqual(want.values.map((v) => (t.dtype === 'f32' ? Math.fround(v) : v)));
      t.dispose();
    }
    expect(() => reader.readInt32('bert.embeddings.word_embeddings.weight')).toThrow(/reference\.safetensors: tensor 'bert\.embeddings\.word_embeddings\.weight': dtype F32 is not an integer type/);
    expect(() => reader.readTensor('nope')).toThrow(/tensor 'nope': not in the file/);
    reader.close();
    expect(() => reader.readFloat32('scalar')).toThrow(/the reader was closed/);
  });

  it('loadSafetensors applies a filter and leaves the rest unread', () => {
    const tensors = loadSafetensors(join(fixtures, 'reference.safetensors'), { filter: (n) => n.startsWith('bert.') });
    expect([...tensors.keys()].sort()).toEqual(Object.keys(expected.tensors).filter((n) => n.startsWith('bert.')).sort());
    for (const t of tensors.values()) t.dispose();
  });
});

describe('writing', () => {
  it('reproduces the reference serializer byte for byte', async () => {
    const source = join(fixtures, 'writer-reference.safetensors');
    const tensors = loadSafetensors(source);
    const out = join(dir, 'rewritten.safetensors');
    await saveSafetensors(out, tensors, { metadata: { format: 'pt' } });
    expect(Buffer.compare(readFileSync(out), readFileSync(source))).toBe(0);
  });

  it('round-trips f32 exactly and i32, 0-d and empty tensors', async () => {
    const rng = new Rng(3);
    const original = new Map<string, Tensor>([
      ['encoder.layer.0.attention.self.query.weight', randn([16, 8], { rng })],
      ['crf.transitions', randn([5, 5], { rng })],
      ['step', tensor(7)],
      ['ids', tensor([1, -2, 2147483647], [3], { dtype: 'i32' })],
      ['empty', tensor([], [0, 4])],
    ]);
    const path = join(dir, 'roundtrip.safetensors');
    await saveSafetensors(path, original, { metadata: { note: 'round trip' } });
    const loaded = loadSafetensors(path);
    expect(SafetensorsReader.open(path).header.metadata).toEqual({ note: 'round trip' });
    for (const [name, t] of original) {
      const back = loaded.get(name)!;
      expect(back.shape, name).toEqual(t.shape);
      expect(back.dtype, name).toBe(t.dtype);
      expect(Array.from(back.dataSync()), name).toEqual(Array.from(t.dataSync()));
    }
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('F16 and BF16 storage: torch\'s bits reproduced, other values rounded to nearest', async () => {
    const reader = SafetensorsReader.open(join(fixtures, 'reference.safetensors'));
    const half = reader.readFloat32('bert.embeddings.LayerNorm.gamma');
    const brain = reader.readFloat32('bert.encoder.layer.0.output.dense.weight');
    reader.close();
    const path = join(dir, 'half.safetensors');
    await saveSafetensors(path, [['h', { shape: [half.length], data: half }]], { floatDType: 'F16' });
    expect(Array.from(loadSafetensors(path).get('h')!.dataSync())).toEqual(Array.from(half));
    await saveSafetensors(path, [['b', { shape: [brain.length], data: brain }]], { floatDType: 'BF16' });
    expect(Array.from(loadSafetensors(path).get('b')!.dataSync())).toEqual(Array.from(brain));
    // Hand-checked encodings: ties go to even, overflow to infinity, tiny values to subnormals or zero.
    expect([1, -2, 65504, 65520, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -24, 2 ** -26, Infinity].map(floatToHalfBits))
      .toEqual([0x3c00, 0xc000, 0x7bff, 0x7c00, 0x3c00, 0x3c02, 0x0001, 0x0000, 0x7c00]);
    expect(floatToHalfBits(NaN) & 0x7e00).toBe(0x7e00);
    expect([1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -0].map(floatToBFloat16Bits)).toEqual([0x3f80, 0x3f80, 0x3f82, 0x8000]);
  });

  it('never leaves a half-written file: a failure keeps the old file and removes the .tmp', async () => {
    const path = join(dir, 'atomic.safetensors');
    await saveSafetensors(path, [['a', { shape: [2], data: Float32Array.from([1, 2]) }]]);
    const before = readFileSync(path);
    const disposed = tensor([1, 2, 3]);
    disposed.dispose();
    await expect(saveSafetensors(path, [['a', { shape: [2], data: Float32Array.from([5, 6]) }], ['b', disposed]])).rejects.toThrow(/atomic\.safetensors: writing failed: .*used after dispose/);
    expect(Buffer.compare(readFileSync(path), before)).toBe(0);
    expect(existsSync(`${path}.tmp`)).toBe(false);
    await expect(saveSafetensors(path, [['a', { shape: [3], data: new Float32Array(2) }]])).rejects.toThrow(/tensor 'a' has 2 values but shape \[3\]/);
  });

  it('optimizer state survives a file: a resumed step equals the uninterrupted one', async () => {
    const weight = keep(tensor([0.5, -1, 2], [3], { requiresGrad: true }));
    const original = new AdamW([['w', weight]], { lr: 0.1 });
    weight.grad = keep(tensor([0.1, 0.2, -0.3]));
    original.step();
    const afterFirst = Array.from(weight.dataSync());
    const state = original.stateDict();
    const path = join(dir, 'optimizer.safetensors');
    await saveSafetensors(path, state.tensors, { metadata: { kind: state.kind, groups: JSON.stringify(state.groups) } });
    for (const t of state.tensors.values()) t.dispose();
    weight.grad.assign(tensor([-0.4, 0.2, 0.05]));
    original.step();
    const uninterrupted = Array.from(weight.dataSync());

    weight.assign(tensor(afterFirst, [3]));
    const resumed = new AdamW([['w', weight]], { lr: 0.1 });
    const reader = SafetensorsReader.open(path);
    const metadata = reader.header.metadata;
    reader.close();
    const tensors = loadSafetensors(path);
    expect([...tensors.keys()].sort()).toEqual(['state.w.exp_avg', 'state.w.exp_avg_sq', 'state.w.step']);
    await resumed.loadStateDict({ kind: metadata.kind!, groups: JSON.parse(metadata.groups!), tensors });
    resumed.step();
    expect(Array.from(weight.dataSync())).toEqual(uninterrupted);
  });
});

describe('corrupt files: one line naming the file and the byte offset', () => {
  const valid = { a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] }, b: { dtype: 'F16', shape: [4], data_offsets: [16, 24] } };
  const cases: [string, () => string, RegExp][] = [
    ['empty file', () => { const p = join(dir, 'empty.safetensors'); writeFileSync(p, ''); return p; }, /empty\.safetensors: byte 0: the file is 0 bytes, too short/],
    ['shorter than the length field', () => { const p = join(dir, 'short.safetensors'); writeFileSync(p, new Uint8Array(5)); return p; }, /short\.safetensors: byte 0: the file is 5 bytes, too short/],
    ['header length past the end of the file', () => craft('long-header.safetensors', valid, new Uint8Array(24), 10_000n), /long-header\.safetensors: byte 0: header length 10000 runs past the end of the file \(\d+ bytes\)/],
    ['header length near 2^64', () => craft('huge-header.safetensors', valid, new Uint8Array(24), 0xffffffffffffff00n), /huge-header\.safetensors: byte 0: header length 18446744073709551360 runs past the end/],
    ['truncated data section', () => craft('truncated.safetensors', valid, new Uint8Array(20)), /truncated\.safetensors: tensor 'b' at file bytes \d+\.\.\d+: the range runs past the end of the file/],
    ['overlapping ranges', () => craft('overlap.safetensors', { a: valid.a, b: { dtype: 'F16', shape: [4], data_offsets: [8, 16] } }, new Uint8Array(24)), /overlap\.safetensors: tensor 'b' at file bytes \d+\.\.\d+: overlaps tensor 'a' at \d+\.\.\d+/],
    ['unknown dtype', () => craft('dtype.safetensors', { a: { dtype: 'F17', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8)), /dtype\.safetensors: tensor 'a': unknown dtype "F17"/],
    ['shape and size disagree', () => craft('size.safetensors', { a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 16] } }, new Uint8Array(16)), /size\.safetensors: tensor 'a' at file bytes \d+\.\.\d+: shape \[2, 3\] of F32 needs 24 bytes but the range holds 16/],
    ['reversed offsets', () => craft('reversed.safetensors', { a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, new Uint8Array(8)), /reversed\.safetensors: tensor 'a': data_offsets \[8,0\] is not \[begin, end\]/],
    ['negative dimension', () => craft('negative.safetensors', { a: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }), /negative\.safetensors: tensor 'a': shape \[-1\] is not a list/],
    ['header not JSON', () => craft('json.safetensors', '{"a": ', new Uint8Array(0)), /json\.safetensors: header at bytes 8\.\.14: not a JSON object/],
    ['bad metadata', () => craft('meta.safetensors', { __metadata__: { n: 1 } }), /meta\.safetensors: header: __metadata__ must map strings to strings/],
  ];
  for (const [label, make, pattern] of cases) {
    it(label, () => {
      const path = make();
      const message = openError(path);
      expect(message).toMatch(pattern);
      expect(message).toContain(path);
      expect(message).not.toContain('\n');
    });
  }

  it('a missing file is named', () => {
    expect(openError(join(dir, 'absent.safetensors'))).toMatch(/absent\.safetensors: cannot open/);
  });

  it('fuzz: the header parser accepts only in-bounds, non-overlapping ranges and otherwise throws its own error', () => {
    const bytesPer: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I64: 8, U8: 1 };
    // Mostly self-consistent entries (offsets that fit the shape), so overlaps and
    // out-of-range ends are reached, plus invalid dtypes, shapes and offsets.
    const entry = fc
      .record({
        dtype: fc.oneof({ weight: 12, arbitrary: fc.constantFrom('F32', 'F16', 'BF16', 'I64', 'U8') }, { weight: 1, arbitrary: fc.constantFrom<unknown>('X', 7) }),
        shape: fc.array(fc.oneof({ weight: 30, arbitrary: fc.integer({ min: 0, max: 4 }) }, { weight: 1, arbitrary: fc.constantFrom(-1, 1.5) }), { maxLength: 3 }),
        begin: fc.integer({ min: 0, max: 40 }),
        consistent: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
        end: fc.oneof(fc.integer({ min: 0, max: 80 }), fc.constant('x')),
      })
      .map(({ dtype, shape, begin, consistent, end }) => {
        const size = shape.reduce((n: number, d) => n * d, 1) * (bytesPer[dtype as string] ?? 4);
        return { dtype, shape, data_offsets: consistent ? [begin, begin + size] : end === 'x' ? 'x' : [begin, end] };
      });
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 4 }).map((list) => Object.fromEntries(list.map((e, i) => [`t${i}`, e]))), fc.integer({ min: 0, max: 96 }), fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }) }), (header, dataSize, lengthSkew) => {
        const text = new TextEncoder().encode(JSON.stringify(header));
        const bytes = new Uint8Array(8 + text.length);
        new DataView(bytes.buffer).setBigUint64(0, BigInt(Math.max(0, text.length + lengthSkew)), true);
        bytes.set(text, 8);
        const fileSize = 8 + text.length + dataSize;
        let parsed;
        try {
          parsed = parseSafetensorsHeader(bytes, fileSize, 'fuzz.safetensors');
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
          expect((e as Error).message).toMatch(/^fuzz\.safetensors: /);
          return;
        }
        accepted++;
        const ranges = [...parsed.entries.values()].filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
        for (const [i, e] of ranges.entries()) {
          expect(parsed.dataOffset + e.end).toBeLessThanOrEqual(fileSize);
          expect(e.end - e.begin).toBe(e.shape.reduce((n, d) => n * d, 1) * bytesPer[e.dtype]!);
          if (i > 0) expect(e.begin).toBeGreaterThanOrEqual(ranges[i - 1]!.end);
        }
      }),
      { numRuns: 600 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it('fuzz: flipped bytes in a real file give a named error or a well-formed read, never a crash', () => {
    const original = readFileSync(join(fixtures, 'reference.safetensors'));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: original.length - 1 }), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat({ max: original.length }), (flips, cut) => {
        const bytes = Uint8Array.from(original.subarray(0, Math.max(cut, 1)));
        for (const [at, value] of flips) if (at < bytes.length) bytes[at] = value;
        const path = join(dir, 'mutated.safetensors');
        writeFileSync(path, bytes);
        try {
          const reader = SafetensorsReader.open(path);
          for (const name of reader.names()) {
            try {
              reader.readTensor(name).dispose();
            } catch (e) {
              expect((e as Error).message).toContain(path); // unsupported dtype, I64 out of range
            }
          }
          reader.close();
        } catch (e) {
          expect((e as Error).message).toContain(path);
        }
      }),
      { numRuns: 150 },
    );
  });
});
