// The shapes every reader produces and every writer consumes: token-level sentences and offset-level documents.

export interface Sentence {
  tokens: string[];
  tags: string[];
  /** Character span of each token in its document's text, when known. */
  offsets?: [number, number][];
  docId?: string;
}

export type Corpus = Sentence[];

/** A text-bound annotation; offsets are UTF-16 code units into the document text, end exclusive. */
export interface EntityMention {
  type: string;
  start: number;
  end: number;
  /** Present when the mention is discontinuous (brat `start end;start end`); start/end are then its extent. */
  fragments?: [number, number][];
  /** Surface text as written in the annotation file (may differ from the slice; the offsets win). */
  text?: string;
  id?: string;
  /** Concept id(s) from PubTator, e.g. MeSH `D009270` or composite `D001|D002`. */
  conceptId?: string;
  /** 1-based line of the annotation in its source file, for error messages. */
  line?: number;
}

export interface AnnotatedDocument {
  id: string;
  text: string;
  entities: EntityMention[];
  /** PubTator keeps title and abstract apart; sentences never cross this offset. */
  titleEnd?: number;
  /** The file the annotations came from (the .ann, the PubTator file), for error messages. */
  source?: string;
}
