// SentencePiece's precompiled normalization map (normalizer_spec.precompiled_charsmap, e.g. nmt_nfkc): a
// Darts-clone double-array trie over UTF-8 byte strings whose values index NUL-terminated replacements.
// Layout: u32 little-endian trie size in bytes, the trie's u32 units, then the replacement strings.

export class PrecompiledCharsmap {
  private readonly units: Uint32Array;
  private readonly replacements: Uint8Array;
  private readonly decoder = new TextDecoder();
  private readonly encoder = new TextEncoder();
  /** Chunks already looked up (text is mostly the same few hundred characters). */
  private readonly cache = new Map<string, string | null>();

  constructor(bytes: Uint8Array, where = 'precompiled_charsmap') {
    if (bytes.length < 4) throw new Error(`${where}: ${bytes.length} bytes, too short for a charsmap`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const trieBytes = view.getUint32(0, true);
    if (trieBytes % 4 !== 0 || 4 + trieBytes > bytes.length) throw new Error(`${where}: trie of ${trieBytes} bytes does not fit in ${bytes.length}`);
    this.units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + 4 * i, true);
    this.replacements = bytes.slice(4 + trieBytes);
  }

  static fromBase64(text: string): PrecompiledCharsmap {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new PrecompiledCharsmap(bytes);
  }

  /** Values of every key that is a prefix of `key`, shortest first. */
  private commonPrefixSearch(key: Uint8Array): number[] {
    const results: number[] = [];
    const units = this.units;
    let position = offset(units[0]!);
    for (const byte of key) {
      if (byte === 0) break;
      position ^= byte;
      const unit = units[position];
      if (unit === undefined || label(unit) !== byte) return results;
      position ^= offset(unit);
      if (hasLeaf(unit)) results.push(units[position]! & 0x7fffffff);
    }
    return results;
  }

  /** The replacement of `chunk` (by its shortest matching prefix, as SentencePiece and HF do), or null. */
  transform(chunk: string): string | null {
    const cached = this.cache.get(chunk);
    if (cached !== undefined) return cached;
    const result = this.lookup(chunk);
    if (this.cache.size < 100_000) this.cache.set(chunk, result);
    return result;
  }

  private lookup(chunk: string): string | null {
    const results = this.commonPrefixSearch(this.encoder.encode(chunk));
    if (results.length === 0) return null;
    const start = results[0]!;
    let end = start;
    while (end < this.replacements.length && this.replacements[end] !== 0) end++;
    return this.decoder.decode(this.replacements.subarray(start, end));
  }
}

function hasLeaf(unit: number): boolean {
  return ((unit >>> 8) & 1) === 1;
}

function label(unit: number): number {
  return (unit & 0x800000ff) >>> 0;
}

function offset(unit: number): number {
  return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
}
