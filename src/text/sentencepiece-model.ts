// A SentencePiece model file (spiece.model): a protobuf ModelProto, read here by a small wire-format reader
// (no protobuf dependency) for the fields tokenization needs: the pieces with their scores and types, the
// trainer's model type and unknown id, and the normalizer's precompiled character map.

export const enum SentencePieceType {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
}

export interface SentencePiece {
  piece: string;
  score: number;
  type: SentencePieceType;
}

export interface SentencePieceModel {
  pieces: SentencePiece[];
  /** TrainerSpec.model_type: 1 unigram, 2 BPE, 3 word, 4 char. */
  modelType: number;
  unkId: number;
  normalizerName: string;
  precompiledCharsmap: Uint8Array;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
}

class WireReader {
  position = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly where: string,
    readonly base = 0,
  ) {}

  get done(): boolean {
    return this.position >= this.bytes.length;
  }

  private fail(message: string): never {
    throw new Error(`${this.where}: byte ${this.base + this.position}: ${message}`);
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.position >= this.bytes.length) this.fail('truncated varint');
      const byte = this.bytes[this.position++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    this.fail('varint longer than 10 bytes');
  }

  /** A length-delimited field's bytes and where they start in the file. */
  lengthDelimited(): { bytes: Uint8Array; base: number } {
    const length = this.varint();
    const start = this.position;
    if (start + length > this.bytes.length) this.fail(`field of ${length} bytes runs past the end (${this.bytes.length - start} left)`);
    this.position += length;
    return { bytes: this.bytes.subarray(start, start + length), base: this.base + start };
  }

  float32(): number {
    if (this.position + 4 > this.bytes.length) this.fail('truncated float');
    const value = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.position, 4).getFloat32(0, true);
    this.position += 4;
    return value;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.position += 8;
    else if (wireType === 2) this.lengthDelimited();
    else if (wireType === 5) this.position += 4;
    else this.fail(`unsupported wire type ${wireType} (not a protobuf SentencePiece model?)`);
    if (this.position > this.bytes.length) this.fail('truncated field');
  }

  /** Each (field number, wire type) in turn; the callback reads the value or returns false to skip it. */
  fields(read: (field: number, wireType: number) => boolean): void {
    while (!this.done) {
      const key = this.varint();
      const field = Math.floor(key / 8);
      const wireType = key & 7;
      if (field === 0) this.fail('field number 0 (not a protobuf SentencePiece model?)');
      if (!read(field, wireType)) this.skip(wireType);
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function readSentencePieceModel(bytes: Uint8Array, where = 'spiece.model'): SentencePieceModel {
  const model: SentencePieceModel = { pieces: [], modelType: 1, unkId: 0, normalizerName: '', precompiledCharsmap: new Uint8Array(0), addDummyPrefix: true, removeExtraWhitespaces: true };
  const text = (field: { bytes: Uint8Array; base: number }) => {
    try {
      return utf8.decode(field.bytes);
    } catch {
      throw new Error(`${where}: byte ${field.base}: a string that is not UTF-8`);
    }
  };
  const top = new WireReader(bytes, where);
  const nested = () => {
    const { bytes: inner, base } = top.lengthDelimited();
    return new WireReader(inner, where, base);
  };
  top.fields((field, wireType) => {
    if (wireType !== 2) return false;
    if (field === 1) {
      const sub = nested();
      const piece: SentencePiece = { piece: '', score: 0, type: SentencePieceType.Normal };
      sub.fields((f, w) => {
        if (f === 1 && w === 2) piece.piece = text(sub.lengthDelimited());
        else if (f === 2 && w === 5) piece.score = sub.float32();
        else if (f === 3 && w === 0) piece.type = sub.varint();
        else return false;
        return true;
      });
      model.pieces.push(piece);
      return true;
    }
    if (field === 2) {
      const sub = nested();
      sub.fields((f, w) => {
        if (f === 3 && w === 0) model.modelType = sub.varint();
        else if (f === 40 && w === 0) model.unkId = sub.varint();
        else return false;
        return true;
      });
      return true;
    }
    if (field === 3) {
      const sub = nested();
      sub.fields((f, w) => {
        if (f === 1 && w === 2) model.normalizerName = text(sub.lengthDelimited());
        else if (f === 2 && w === 2) model.precompiledCharsmap = sub.lengthDelimited().bytes.slice();
        else if (f === 3 && w === 0) model.addDummyPrefix = sub.varint() !== 0;
        else if (f === 4 && w === 0) model.removeExtraWhitespaces = sub.varint() !== 0;
        else return false;
        return true;
      });
      return true;
    }
    return false;
  });
  if (model.pieces.length === 0) throw new Error(`${where}: no pieces (not a SentencePiece model?)`);
  return model;
}
