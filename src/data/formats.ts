// Which format a corpus file is in, when the command line does not say: from the extension, and for the
// ambiguous .txt (PubTator files are often *.PubTator.txt, brat documents are .txt + .ann, CoNLL files
// are .txt too) from a look at the file.

import { platform } from '../platform/index.js';

const { closeSync, existsSync, openSync, readSync, statSync } = platform.fsSync;

export const CORPUS_FORMATS = ['conll', 'brat', 'pubtator', 'jsonl'] as const;
export type CorpusFileFormat = (typeof CORPUS_FORMATS)[number];

const PUBTATOR_HEADER = /^[^|\t]+\|[ta]\|/;
const BY_EXTENSION: Record<string, CorpusFileFormat> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'jsonl',
  '.conll': 'conll',
  '.conllu': 'conll',
  '.tsv': 'conll',
  '.iob': 'conll',
  '.iob2': 'conll',
  '.bio': 'conll',
  '.bioes': 'conll',
  '.pubtator': 'pubtator',
  '.ann': 'brat',
};

function extension(path: string): string {
  const base = path.replace(/\.gz$/i, '').split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

/** The first few KB of a file, for sniffing. */
function head(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(8192);
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** True when the first non-empty line of `text` is a PubTator `PMID|t|` or `PMID|a|` line. */
export function looksLikePubtator(text: string): boolean {
  const first = text.replace(/^\uFEFF/, '').split(/\r?\n/).find((l) => l.trim() !== '');
  return first !== undefined && PUBTATOR_HEADER.test(first);
}

/**
 * The format of a corpus at `path`: a directory is brat; .jsonl/.json -> jsonl; .tsv/.conll/.iob/.bio ->
 * CoNLL; .pubtator -> PubTator; .ann, or a .txt with a .ann beside it -> brat; any other file is PubTator
 * when its first line is `PMID|t|...`, else CoNLL.
 */
export function inferCorpusFormat(path: string): CorpusFileFormat {
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    throw new Error(`${path}: no such file or directory`);
  }
  if (isDirectory) return 'brat';
  const ext = extension(path);
  if (BY_EXTENSION[ext]) return BY_EXTENSION[ext];
  if (ext === '.txt' && existsSync(path.slice(0, -4) + '.ann')) return 'brat';
  if (path.toLowerCase().includes('pubtator') || looksLikePubtator(head(path))) return 'pubtator';
  return 'conll';
}

/** The corpus format: the one given (not 'auto'), else inferred from the file. */
export function resolveCorpusFormat(path: string, given: CorpusFileFormat | 'auto' | undefined): CorpusFileFormat {
  return given && given !== 'auto' ? given : inferCorpusFormat(path);
}

export type PredictInputFormat = 'text' | 'jsonl' | 'conll' | 'pubtator';
export type PredictOutputFormat = 'jsonl' | 'brat' | 'conll' | 'pubtator';

/** Input of predict: .jsonl -> jsonl, .conll/.tsv/.iob -> CoNLL, .pubtator or a PubTator first line -> PubTator, else text. */
export function inferPredictInput(path: string | undefined): PredictInputFormat {
  if (!path || path === '-') return 'text';
  const format = BY_EXTENSION[extension(path)];
  if (format === 'jsonl' || format === 'conll' || format === 'pubtator') return format;
  try {
    if (path.toLowerCase().includes('pubtator') || looksLikePubtator(head(path))) return 'pubtator';
  } catch {
    // A missing file is reported by the reader, with its name.
  }
  return 'text';
}

/** Output of predict from --out: .ann -> brat, .pubtator -> PubTator, .conll/.tsv/.iob -> CoNLL, else jsonl. */
export function inferPredictOutput(out: string | undefined): PredictOutputFormat {
  if (!out) return 'jsonl';
  const ext = extension(out);
  if (ext === '.ann') return 'brat';
  const format = BY_EXTENSION[ext];
  if (format === 'pubtator' || format === 'conll') return format;
  return 'jsonl';
}

/**
 * One option name per meaning across commands: `--format` for the input, `--output-format` for the
 * output; the older names (--input-format, --from, --to) are kept as aliases. Returns the value given
 * under either name; both with different values is an error.
 */
export function aliasedOption<T extends string>(flags: Record<string, unknown>, name: string, aliases: Record<string, string>): T | undefined {
  let value = flags[name] as T | undefined;
  let from = name;
  for (const [alias, flag] of Object.entries(aliases)) {
    const v = flags[alias] as T | undefined;
    if (v === undefined) continue;
    if (value !== undefined && value !== v) throw new Error(`--${flagName(from)} ${value} and ${flag} ${v} disagree; give one`);
    value = v;
    from = alias;
  }
  return value;
}

const flagName = (camel: string) => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
