// Offsets at the boundary with other tools. Inside medner, offsets are UTF-16 code units (JavaScript
// string indices); every file format and JSON output that other tools read -- brat, PubTator, the JSONL
// of predict and convert -- counts Unicode code points, as Python's str does (HF pipelines, brat,
// PubTator tools, seqeval users). An emoji or a CJK Extension B character is one code point but two
// UTF-16 units, so the two counts differ after the first such character.

/** Converts offsets between UTF-16 code units and code points for one text. */
export class OffsetMap {
  /** UTF-16 index of each astral character's first unit, ascending; empty for a text of the BMP only. */
  private readonly astral: number[] = [];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) this.astral.push(i++);
      }
    }
  }

  /** Length of the text in code points. */
  get codePointLength(): number {
    return this.text.length - this.astral.length;
  }

  /** Code-point offset of a UTF-16 offset (one inside a surrogate pair rounds up to that character's end). */
  toCodePoint(utf16: number): number {
    if (this.astral.length === 0) return utf16;
    // Astral characters that start before `utf16` each took one extra unit.
    let lo = 0;
    let hi = this.astral.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.astral[mid]! < utf16) lo = mid + 1;
      else hi = mid;
    }
    const inside = lo > 0 && this.astral[lo - 1]! + 1 === utf16 ? 1 : 0;
    return utf16 - lo + inside;
  }

  /** UTF-16 offset of a code-point offset; past the end gives a value past text.length (for range checks). */
  toUtf16(codePoint: number): number {
    if (this.astral.length === 0) return codePoint;
    // The k-th astral character (0-based) sits at code point astral[k] - k.
    let lo = 0;
    let hi = this.astral.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.astral[mid]! - mid < codePoint) lo = mid + 1;
      else hi = mid;
    }
    return codePoint + lo;
  }
}

/** Length of a string in code points. */
export function codePointLength(text: string): number {
  return new OffsetMap(text).codePointLength;
}
