// safetensors, read and written here (https://github.com/huggingface/safetensors):
// 8 bytes u64 LE header length N, N bytes of JSON {name: {dtype, shape, data_offsets}},
// then the data section; offsets are relative to its start. The header is checked
// before any tensor is read, and each tensor is read into its own buffer with
// fs.readSync at its offset, so a 440 MB checkpoint never sits in memory twice.
// The same reader runs over bytes already in memory (a browser's fetch or file
// input): SafetensorsReader.fromBytes, loadSafetensorsBytes, serializeSafetensors.

import { platform } from '../platform/index.js';
import { Tensor } from '../tensor/tensor.js';
import type { Backend, TypedArray } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';

/** Every dtype of the format; only some convert (see readFloat32 / readInt32). */
export const SAFETENSORS_DTYPE_BYTES = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
} as const;
export type SafetensorsDType = keyof typeof SAFETENSORS_DTYPE_BYTES;

const FLOAT_DTYPES = new Set<SafetensorsDType>(['F16', 'BF16', 'F32', 'F64']);
const INT_DTYPES = new Set<SafetensorsDType>(['BOOL', 'U8', 'I8', 'I16', 'I32', 'I64']);
/** The reference implementation refuses larger headers too: it bounds what a hostile file can make us parse. */
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Byte range [begin, end) within the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  file: string;
  headerLength: number;
  /** File offset of the data section: 8 + headerLength. */
  dataOffset: number;
  entries: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

function fail(file: string, where: string, message: string): never {
  throw new Error(`${file}: ${where}: ${message}`);
}

function isDType(value: unknown): value is SafetensorsDType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPE_BYTES, value);
}

/**
 * Parse and check the header of a file of `fileSize` bytes. `headerBytes` is the
 * file's first 8 + N bytes (or at least the first 8, when N is to be rejected).
 * Every range is checked against the file before anything is read.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, fileSize: number, file = '<buffer>'): SafetensorsHeader {
  if (fileSize < 8 || headerBytes.length < 8) fail(file, 'byte 0', `the file is ${fileSize} bytes, too short for the 8-byte header length`);
  const lengthBig = new DataView(headerBytes.buffer, headerBytes.byteOffset, 8).getBigUint64(0, true);
  if (lengthBig > BigInt(fileSize - 8)) fail(file, 'byte 0', `header length ${lengthBig} runs past the end of the file (${fileSize} bytes)`);
  const headerLength = Number(lengthBig);
  if (headerLength > MAX_HEADER_BYTES) fail(file, 'byte 0', `header length ${headerLength} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  if (headerBytes.length < 8 + headerLength) fail(file, 'byte 8', `only ${headerBytes.length - 8} of the ${headerLength} header bytes were given`);
  const dataOffset = 8 + headerLength;
  const dataSize = fileSize - dataOffset;

  let json: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes.subarray(8, dataOffset));
    if (!text.startsWith('{')) throw new Error('it does not start with "{"');
    json = JSON.parse(text);
  } catch (e) {
    fail(file, `header at bytes 8..${dataOffset}`, `not a JSON object (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail(file, `header at bytes 8..${dataOffset}`, 'not a JSON object');

  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (info === null || typeof info !== 'object' || Array.isArray(info) || Object.values(info).some((v) => typeof v !== 'string')) {
        fail(file, 'header', '__metadata__ must map strings to strings');
      }
      metadata = info as Record<string, string>;
      continue;
    }
    const where = `tensor '${name}'`;
    if (info === null || typeof info !== 'object') fail(file, where, 'its header entry is not an object');
    const { dtype, shape, data_offsets: offsets } = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isDType(dtype)) fail(file, where, `unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(', ')})`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(file, where, `shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      fail(file, where, `data_offsets ${JSON.stringify(offsets)} is not [begin, end] with 0 <= begin <= end`);
    }
    const [begin, end] = offsets as [number, number];
    const elements = (shape as number[]).reduce((n, d) => n * d, 1);
    const bytes = elements * SAFETENSORS_DTYPE_BYTES[dtype];
    if (!Number.isSafeInteger(bytes) || bytes !== end - begin) {
      fail(file, `${where} at file bytes ${dataOffset + begin}..${dataOffset + end}`, `shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${bytes} bytes but the range holds ${end - begin}`);
    }
    if (end > dataSize) fail(file, `${where} at file bytes ${dataOffset + begin}..${dataOffset + end}`, `the range runs past the end of the file (${fileSize} bytes)`);
    entries.set(name, { name, dtype, shape: shape as number[], begin, end });
  }

  const sorted = [...entries.values()].filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1]!;
    const current = sorted[i]!;
    if (current.begin < previous.end) {
      fail(file, `tensor '${current.name}' at file bytes ${dataOffset + current.begin}..${dataOffset + current.end}`, `overlaps tensor '${previous.name}' at ${dataOffset + previous.begin}..${dataOffset + previous.end}`);
    }
  }
  return { file, headerLength, dataOffset, entries, metadata };
}

// ---------- half-precision conversion ----------

let halfTable: Float32Array | null = null;

/** All 65536 f16 values as f32 (exact): a lookup beats bit twiddling per element. */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) halfTable[h] = sign * mantissa * 2 ** -24;
    else if (exponent === 31) halfTable[h] = mantissa ? NaN : sign * Infinity;
    else halfTable[h] = sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
  }
  return halfTable;
}

const bitsView = new DataView(new ArrayBuffer(4));

/** f32 -> f16 bits, round to nearest even (as torch's .half()). */
export function floatToHalfBits(value: number): number {
  bitsView.setFloat32(0, value, true);
  const x = bitsView.getUint32(0, true);
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 255) return sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >>> 13) : 0);
  const e = exponent - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa bumps the exponent, up to infinity: that is the correct rounding.
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** f32 -> bf16 bits, round to nearest even. */
export function floatToBFloat16Bits(value: number): number {
  bitsView.setFloat32(0, value, true);
  const x = bitsView.getUint32(0, true);
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) & 0x8000) | 0x7fc0;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

// ---------- reading ----------

/** Where a reader's bytes come from: a file opened by the platform, or memory. */
interface ByteSource {
  readonly size: number;
  /** Copy up to target.length bytes from `position` into `target`; the count copied (0 at the end). */
  read(target: Uint8Array, position: number): number;
  close(): void;
}

function fileSource(path: string): ByteSource {
  const { openSync, fstatSync, readSync, closeSync } = platform.fsSync;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new Error(`${path}: cannot open: ${(e as Error).message}`);
  }
  return {
    size: fstatSync(fd).size,
    // In chunks below fs.read's 2 GiB limit.
    read: (target, position) => readSync(fd, target, 0, Math.min(target.length, 1 << 30), position),
    close: () => closeSync(fd),
  };
}

function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (target, position) => {
      const part = bytes.subarray(position, position + target.length);
      target.set(part);
      return part.length;
    },
    close: () => undefined,
  };
}

/** Fill `target` from the source at `position`. */
function readFully(source: ByteSource, target: Uint8Array, position: number, file: string, name: string): void {
  for (let done = 0; done < target.length;) {
    const read = source.read(target.subarray(done), position + done);
    if (read === 0) fail(file, `tensor '${name}' at file byte ${position + done}`, 'the file ended early (was it truncated while being read?)');
    done += read;
  }
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('safetensors: this reader assumes a little-endian host (as the format is)');

/**
 * An open safetensors file: the checked header, and tensors read one at a time.
 * Close it when done (or use loadSafetensors, which does).
 */
export class SafetensorsReader {
  private source: ByteSource | null;

  private constructor(source: ByteSource, readonly header: SafetensorsHeader) {
    this.source = source;
  }

  static open(path: string): SafetensorsReader {
    return SafetensorsReader.over(fileSource(path), path);
  }

  /** A reader over a file's bytes already in memory; `name` is what errors call it. */
  static fromBytes(bytes: Uint8Array, name = '<bytes>'): SafetensorsReader {
    return SafetensorsReader.over(memorySource(bytes), name);
  }

  private static over(source: ByteSource, path: string): SafetensorsReader {
    try {
      const fileSize = source.size;
      const lengthBytes = new Uint8Array(Math.min(8, fileSize));
      if (lengthBytes.length > 0) readFully(source, lengthBytes, 0, path, '<header length>');
      // Parse once with only the length: rejects a lying length before allocating for it.
      const headerLength = fileSize >= 8 ? new DataView(lengthBytes.buffer).getBigUint64(0, true) : 0n;
      if (fileSize < 8 || headerLength > BigInt(Math.min(fileSize - 8, MAX_HEADER_BYTES))) parseSafetensorsHeader(lengthBytes, fileSize, path);
      const headerBytes = new Uint8Array(8 + Number(headerLength));
      headerBytes.set(lengthBytes);
      readFully(source, headerBytes.subarray(8), 8, path, '<header>');
      return new SafetensorsReader(source, parseSafetensorsHeader(headerBytes, fileSize, path));
    } catch (e) {
      source.close();
      throw e;
    }
  }

  get file(): string {
    return this.header.file;
  }

  names(): string[] {
    return [...this.header.entries.keys()];
  }

  entry(name: string): SafetensorsEntry {
    const entry = this.header.entries.get(name);
    if (!entry) fail(this.file, `tensor '${name}'`, 'not in the file');
    return entry;
  }

  private readBytes<T extends TypedArray | Uint16Array | Float64Array | BigInt64Array | Uint8Array | Int8Array | Int16Array>(entry: SafetensorsEntry, make: (length: number) => T): T {
    if (this.source === null) fail(this.file, `tensor '${entry.name}'`, 'the reader was closed');
    const length = (entry.end - entry.begin) / SAFETENSORS_DTYPE_BYTES[entry.dtype];
    const array = make(length);
    readFully(this.source, new Uint8Array(array.buffer, array.byteOffset, array.byteLength), this.header.dataOffset + entry.begin, this.file, entry.name);
    return array;
  }

  /** A float tensor (F32, F16, BF16, F64) as f32 values. */
  readFloat32(name: string): Float32Array {
    const entry = this.entry(name);
    switch (entry.dtype) {
      case 'F32':
        return this.readBytes(entry, (n) => new Float32Array(n));
      case 'F16': {
        const bits = this.readBytes(entry, (n) => new Uint16Array(n));
        const table = halfToFloatTable();
        const out = new Float32Array(bits.length);
        for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]!]!;
        return out;
      }
      case 'BF16': {
        // bf16 is the top half of an f32: shift the bits into place.
        const bits = this.readBytes(entry, (n) => new Uint16Array(n));
        const out = new Float32Array(bits.length);
        const outBits = new Uint32Array(out.buffer);
        for (let i = 0; i < bits.length; i++) outBits[i] = bits[i]! << 16;
        return out;
      }
      case 'F64':
        return Float32Array.from(this.readBytes(entry, (n) => new Float64Array(n)));
      default:
        fail(this.file, `tensor '${name}'`, `dtype ${entry.dtype} is not a float type (F32, F16, BF16, F64)`);
    }
  }

  /** An integer tensor (I32, I64 within i32 range, I16, I8, U8, BOOL) as i32 values, e.g. token ids. */
  readInt32(name: string): Int32Array {
    const entry = this.entry(name);
    switch (entry.dtype) {
      case 'I32':
        return this.readBytes(entry, (n) => new Int32Array(n));
      case 'I64': {
        const wide = this.readBytes(entry, (n) => new BigInt64Array(n));
        const out = new Int32Array(wide.length);
        for (let i = 0; i < wide.length; i++) {
          const v = wide[i]!;
          if (v > 2147483647n || v < -2147483648n) fail(this.file, `tensor '${name}' element ${i}`, `I64 value ${v} does not fit in i32`);
          out[i] = Number(v);
        }
        return out;
      }
      case 'I16':
        return Int32Array.from(this.readBytes(entry, (n) => new Int16Array(n)));
      case 'I8':
        return Int32Array.from(this.readBytes(entry, (n) => new Int8Array(n)));
      case 'U8':
      case 'BOOL':
        return Int32Array.from(this.readBytes(entry, (n) => new Uint8Array(n)));
      default:
        fail(this.file, `tensor '${name}'`, `dtype ${entry.dtype} is not an integer type this reader converts (I32, I64, I16, I8, U8, BOOL)`);
    }
  }

  /** An I8 tensor's values as they are (int8 weights). */
  readInt8(name: string): Int8Array {
    const entry = this.entry(name);
    if (entry.dtype !== 'I8') fail(this.file, `tensor '${name}'`, `dtype ${entry.dtype}, expected I8`);
    return this.readBytes(entry, (n) => new Int8Array(n));
  }

  /** A tensor on `backend`: f32 for float dtypes, i32 for integer ones. */
  readTensor(name: string, backend: Backend = getBackend()): Tensor {
    const entry = this.entry(name);
    if (!FLOAT_DTYPES.has(entry.dtype) && !INT_DTYPES.has(entry.dtype)) {
      fail(this.file, `tensor '${name}'`, `dtype ${entry.dtype} cannot be converted to f32 or i32`);
    }
    const data = FLOAT_DTYPES.has(entry.dtype) ? this.readFloat32(name) : this.readInt32(name);
    return Tensor.fromArray(data, entry.shape, data instanceof Int32Array ? 'i32' : 'f32', backend);
  }

  close(): void {
    this.source?.close();
    this.source = null;
  }
}

export interface LoadOptions {
  backend?: Backend;
  /** Load only the tensors this accepts (e.g. skip an MLM head). */
  filter?: (name: string) => boolean;
}

/** Read a whole file into named tensors (the caller owns them), one tensor buffer at a time. */
export function loadSafetensors(path: string, options: LoadOptions = {}): Map<string, Tensor> {
  return readAll(SafetensorsReader.open(path), options);
}

/** loadSafetensors over a file's bytes in memory (fetched, or from a file input); `name` is what errors call it. */
export function loadSafetensorsBytes(bytes: Uint8Array, options: LoadOptions = {}, name = '<bytes>'): Map<string, Tensor> {
  return readAll(SafetensorsReader.fromBytes(bytes, name), options);
}

function readAll(reader: SafetensorsReader, options: LoadOptions): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  try {
    for (const name of reader.names()) if (!options.filter || options.filter(name)) tensors.set(name, reader.readTensor(name, options.backend));
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  } finally {
    reader.close();
  }
  return tensors;
}

// ---------- writing ----------

/** Host values to write without a Tensor; an Int8Array is written as I8 (int8 weights). */
export interface HostTensor {
  shape: readonly number[];
  data: Float32Array | Int32Array | Int8Array;
}

export interface SaveOptions {
  /** `__metadata__`: string to string (e.g. {format: 'pt'}, a JSON-encoded config). */
  metadata?: Record<string, string>;
  /** Storage type of float tensors: F32 (default), or F16 / BF16 to halve the file. i32 tensors stay I32. */
  floatDType?: 'F32' | 'F16' | 'BF16';
}

interface PlannedTensor {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  source: Tensor | HostTensor;
  begin: number;
  end: number;
}

/** The reference serializer's dtype enum order; sorting by it (descending) puts wider types first. */
const DTYPE_ORDER: readonly SafetensorsDType[] = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'];

/**
 * The header bytes for `tensors` (padded with spaces to a multiple of 8, as the
 * reference writer does, so the data section is 8-byte aligned) and where each
 * tensor goes. Tensors are ordered as the reference orders them (dtype, widest
 * first, then name), which also keeps every tensor aligned to its element size.
 */
function planFile(tensors: [string, Tensor | HostTensor][], options: SaveOptions): { header: Uint8Array; planned: PlannedTensor[] } {
  const floatDType = options.floatDType ?? 'F32';
  const planned: PlannedTensor[] = tensors.map(([name, source]) => {
    if (name === '' || name === '__metadata__') throw new Error(`saveSafetensors: invalid tensor name '${name}'`);
    const isInt = source instanceof Tensor ? source.dtype === 'i32' : source.data instanceof Int32Array;
    const isInt8 = !(source instanceof Tensor) && source.data instanceof Int8Array;
    const shape = [...source.shape];
    const size = shape.reduce((n, d) => n * d, 1);
    const length = source instanceof Tensor ? source.size : source.data.length;
    if (size !== length) throw new Error(`saveSafetensors: tensor '${name}' has ${length} values but shape [${shape.join(', ')}]`);
    return { name, dtype: isInt8 ? 'I8' : isInt ? 'I32' : floatDType, shape, source, begin: 0, end: 0 };
  });
  const names = new Set<string>();
  for (const p of planned) {
    if (names.has(p.name)) throw new Error(`saveSafetensors: tensor name '${p.name}' appears twice`);
    names.add(p.name);
  }
  planned.sort((a, b) => DTYPE_ORDER.indexOf(b.dtype) - DTYPE_ORDER.indexOf(a.dtype) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let offset = 0;
  const json: Record<string, unknown> = {};
  if (options.metadata) json.__metadata__ = options.metadata;
  for (const p of planned) {
    p.begin = offset;
    p.end = offset + p.shape.reduce((n, d) => n * d, 1) * SAFETENSORS_DTYPE_BYTES[p.dtype];
    offset = p.end;
    json[p.name] = { dtype: p.dtype, shape: p.shape, data_offsets: [p.begin, p.end] };
  }
  const text = new TextEncoder().encode(JSON.stringify(json));
  const padded = Math.ceil(text.length / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20, 8 + text.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(text, 8);
  return { header, planned };
}

function encode(values: Float32Array | Int32Array | Int8Array, dtype: SafetensorsDType): Uint8Array {
  if (dtype === 'F32' || dtype === 'I32' || dtype === 'I8') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bits = new Uint16Array(values.length);
  const convert = dtype === 'F16' ? floatToHalfBits : floatToBFloat16Bits;
  for (let i = 0; i < values.length; i++) bits[i] = convert(values[i]!);
  return new Uint8Array(bits.buffer);
}

/**
 * Write tensors to `path` through `path.tmp` and a rename, so a crash never
 * leaves a half-written checkpoint under the real name. Tensors are read back
 * from the device one at a time (async: WebGPU reads are), keeping host memory
 * to one tensor.
 */
export async function saveSafetensors(path: string, tensors: Map<string, Tensor | HostTensor> | Iterable<[string, Tensor | HostTensor]>, options: SaveOptions = {}): Promise<void> {
  const { header, planned } = planFile([...tensors], options);
  const { open, rename, unlink } = platform.fs;
  const temporary = `${path}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    let position = 0;
    const write = async (bytes: Uint8Array): Promise<void> => {
      for (let done = 0; done < bytes.length;) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position);
        done += bytesWritten;
        position += bytesWritten;
      }
    };
    await write(header);
    for (const p of planned) {
      const values = p.source instanceof Tensor ? await p.source.data() : p.source.data;
      await write(encode(values, p.dtype));
    }
    await handle.sync();
    await handle.close();
    await rename(temporary, path);
  } catch (e) {
    await handle.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw new Error(`${path}: writing failed: ${(e as Error).message}`);
  }
}

/** The whole file in memory (a browser's download, a test): the same bytes saveSafetensors writes. */
export async function serializeSafetensors(tensors: Map<string, Tensor | HostTensor> | Iterable<[string, Tensor | HostTensor]>, options: SaveOptions = {}): Promise<Uint8Array> {
  const { header, planned } = planFile([...tensors], options);
  const out = new Uint8Array(header.length + (planned.at(-1)?.end ?? 0));
  out.set(header);
  for (const p of planned) {
    const values = p.source instanceof Tensor ? await p.source.data() : p.source.data;
    out.set(encode(values, p.dtype), header.length + p.begin);
  }
  return out;
}
