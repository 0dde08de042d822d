// Strict UTF-8 reading shared by the readers: whole files, or line by line for large ones, with errors that
// name the file and the byte offset of the first invalid byte.

import { platform } from '../platform/index.js';

const { readFile } = platform.fs;
const { createReadStream } = platform.fsSync;

/** Byte offset of the first byte that does not start a valid UTF-8 sequence, or -1. */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    let length: number;
    let min: number;
    if (b < 0x80) { i++; continue; }
    else if (b >= 0xc2 && b <= 0xdf) { length = 2; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { length = 3; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { length = 4; min = 0x10000; }
    else return i;
    if (i + length > bytes.length) return i;
    let cp = b & (0xff >> (length + 1));
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k]!;
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += length;
  }
  return -1;
}

export function decodeUtf8(bytes: Uint8Array, fileName: string): string {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch {
    throw new Error(`${fileName}: invalid UTF-8 at byte offset ${firstInvalidUtf8Offset(bytes)}`);
  }
}

export async function readUtf8File(path: string): Promise<string> {
  return decodeUtf8(await readFile(path), path);
}

export interface NumberedLine {
  line: string;
  /** 1-based. */
  lineNumber: number;
}

/**
 * Longest line the streaming reader holds (64 Mi UTF-16 units): a file without line breaks stops with an error
 * naming its line instead of growing one string until the process runs out of memory.
 */
export const MAX_LINE_LENGTH = 64 * 1024 * 1024;

/** Lines of a file, streamed in chunks (LF or CRLF), decoded strictly. */
export async function* readLinesStrict(path: string): AsyncGenerator<NumberedLine> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending = '';
  let lineNumber = 0;
  let first = true;
  const stream = createReadStream(path);
  const invalid = async () => new Error(`${path}: invalid UTF-8 at byte offset ${firstInvalidUtf8Offset(await readFile(path))}`);
  const tooLong = () => new Error(`${path}:${lineNumber + 1}: line longer than ${MAX_LINE_LENGTH.toLocaleString('en-US')} characters`);
  const strip = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      stream.destroy();
      // The error path may re-read the file: only here do we need the exact offset.
      throw await invalid();
    }
    if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    first = false;
    // Only the new chunk is split, so a long line costs one pass, not one per chunk.
    const parts = text.split('\n');
    if (parts.length > 1) {
      parts[0] = pending + parts[0];
      pending = parts.pop()!;
      for (const line of parts) {
        if (line.length > MAX_LINE_LENGTH) {
          stream.destroy();
          throw tooLong();
        }
        yield { line: strip(line), lineNumber: ++lineNumber };
      }
    } else pending += text;
    if (pending.length > MAX_LINE_LENGTH) {
      stream.destroy();
      throw tooLong();
    }
  }
  try {
    pending += decoder.decode();
  } catch {
    throw await invalid();
  }
  if (pending !== '') yield { line: strip(pending), lineNumber: ++lineNumber };
}

/** Lines of an in-memory text, numbered like readLinesStrict. */
export function* numberedLines(text: string): Generator<NumberedLine> {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    yield { line: line.endsWith('\r') ? line.slice(0, -1) : line, lineNumber: i + 1 };
  }
}
