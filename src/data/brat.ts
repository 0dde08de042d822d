// brat standoff: <doc>.txt + <doc>.ann. Only T (text-bound) lines are entities, with discontinuous spans
// `start end;start end`; R, E, A, M, N, * and # lines are skipped. Also the .ann writer. Offsets in .ann files
// count Unicode code points (as brat, a Python tool, does); they become UTF-16 offsets on reading and back on writing.

import { platform } from '../platform/index.js';
import { numberedLines, readUtf8File } from './files.js';
import { OffsetMap } from './offsets.js';
import type { AnnotatedDocument, EntityMention } from './types.js';

const { readdir, access } = platform.fs;
const { basename, join } = platform.path;

const TEXT_BOUND = /^(T\d+)\t(\S+) (\d+ \d+(?:;\d+ \d+)*)(?:\t(.*))?$/;
const IGNORED_KINDS = new Set(['R', 'E', 'A', 'M', 'N', '*', '#']);

/** Parse .ann content against its document text; `fileName` names the .ann in errors. */
export function parseBratAnn(ann: string, text: string, fileName = '<ann>'): EntityMention[] {
  const entities: EntityMention[] = [];
  const offsets = new OffsetMap(text);
  const idLines = new Map<string, number>();
  for (const { line, lineNumber } of numberedLines(ann)) {
    if (line.trim() === '' || IGNORED_KINDS.has(line[0]!)) continue;
    const where = `${fileName}:${lineNumber}`;
    const match = TEXT_BOUND.exec(line);
    if (!match) throw new Error(`${where}: malformed annotation line '${line.length > 60 ? line.slice(0, 57) + '...' : line}'`);
    const [, id, type, spanText, surface] = match as unknown as [string, string, string, string, string | undefined];
    if (idLines.has(id)) throw new Error(`${where}: annotation id ${id} is already used on line ${idLines.get(id)}`);
    idLines.set(id, lineNumber);
    const fragments = spanText.split(';').map((pair): [number, number] => {
      const [start, end] = pair.split(' ').map(Number) as [number, number];
      if (end > offsets.codePointLength) throw new Error(`${where}: offset ${end} past the end of the text (length ${offsets.codePointLength})`);
      if (start > end) throw new Error(`${where}: reversed span ${start} ${end}`);
      return [offsets.toUtf16(start), offsets.toUtf16(end)];
    });
    fragments.sort((a, b) => a[0] - b[0]);
    const entity: EntityMention = { id, type, start: fragments[0]![0], end: fragments[fragments.length - 1]![1], line: lineNumber };
    if (fragments.length > 1) entity.fragments = fragments;
    if (surface !== undefined) entity.text = surface;
    entities.push(entity);
  }
  return entities;
}

/** Read `<name>.txt` and its `<name>.ann` (the path may name either, or omit the extension). */
export async function readBratDocument(path: string): Promise<AnnotatedDocument> {
  const stem = path.replace(/\.(txt|ann)$/, '');
  const txtPath = `${stem}.txt`;
  const annPath = `${stem}.ann`;
  const text = await readUtf8File(txtPath);
  try {
    await access(annPath);
  } catch {
    throw new Error(`${txtPath}: no annotation file ${basename(annPath)} next to it`);
  }
  const ann = await readUtf8File(annPath);
  return { id: basename(stem), text, entities: parseBratAnn(ann, text, annPath), source: annPath };
}

/** Every .txt/.ann pair in a directory, sorted by name; a .txt without .ann is an error. */
export async function readBratDirectory(dir: string): Promise<AnnotatedDocument[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.txt')).sort();
  if (names.length === 0) throw new Error(`${dir}: no .txt files (expected brat .txt + .ann pairs)`);
  const documents: AnnotatedDocument[] = [];
  for (const name of names) documents.push(await readBratDocument(join(dir, name)));
  return documents;
}

/** .ann lines for entities (code-point offsets); discontinuous ones keep their fragments, surface text is taken from `text`. */
export function formatBratAnn(entities: readonly EntityMention[], text: string): string {
  const offsets = new OffsetMap(text);
  return entities
    .map((entity, i) => {
      const fragments = entity.fragments ?? [[entity.start, entity.end]];
      const spans = fragments.map(([s, e]) => `${offsets.toCodePoint(s)} ${offsets.toCodePoint(e)}`).join(';');
      const surface = fragments.map(([s, e]) => text.slice(s, e)).join(' ').replace(/[\t\n\r]/g, ' ');
      return `${entity.id ?? `T${i + 1}`}\t${entity.type} ${spans}\t${surface}\n`;
    })
    .join('');
}
