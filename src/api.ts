// The library API in a few calls: train a tagger, load it, tag text, score a corpus.
// The CLI commands are thin wrappers over the same functions.

import type { Backend } from './backend/backend.js';
import { setBackend, useBackend } from './backend/registry.js';
import { defaultsFor, resolveConfig, type CorpusFormat, type ModelKind, type TrainConfig } from './train/config.js';
import { train, type TrainResult } from './train/trainer.js';
import { loadCheckpoint, type LoadedCheckpoint } from './train/checkpoint.js';
import { loadSentences } from './train/corpus.js';
import { evaluate } from './train/evaluate.js';
import { predictText, type PredictedEntity } from './train/tag.js';
import type { EntityScores } from './metrics/scores.js';
import type { TypeMapOptions } from './data/label-maps.js';

export interface TrainTaggerOptions {
  train: string;
  dev?: string;
  test?: string;
  out: string;
  model?: ModelKind;
  format?: CorpusFormat;
  /** Any setting of TrainConfig; unset ones take the model's defaults. */
  config?: Partial<TrainConfig>;
  pretrained?: string;
  backend?: Backend;
  log?: (line: string) => void;
  /** Train into a non-empty `out` (otherwise refused, so an earlier run is never replaced by accident). */
  overwrite?: boolean;
  /** Entity types rewritten in every split: a label map, then rare types grouped (counted on the training set). */
  typeMap?: TypeMapOptions;
}

/** Train and keep the best checkpoint in `out/best`; returns the history and the test scores. */
export async function trainTagger(options: TrainTaggerOptions): Promise<TrainResult> {
  const model = options.model ?? options.config?.model ?? 'bilstm-crf';
  const config = resolveConfig({ ...options.config, model, format: options.format ?? options.config?.format ?? 'auto' }, 'trainTagger', defaultsFor(model));
  return train({ config, train: options.train, dev: options.dev, test: options.test, out: options.out, pretrained: options.pretrained, backend: options.backend ?? (await useBackend()), log: options.log ?? (() => undefined), progress: false, overwrite: options.overwrite, typeMap: options.typeMap });
}

/** A trained model, ready to tag text. */
export class Tagger {
  private constructor(readonly checkpoint: LoadedCheckpoint, readonly backend: Backend) {}

  /** `backend`: this one, else MEDNER_BACKEND, else the CPU (the rule of chooseBackendName). */
  static async load(dir: string, backend?: Backend): Promise<Tagger> {
    const chosen = backend ?? (await useBackend());
    setBackend(chosen);
    return new Tagger(await loadCheckpoint(dir, chosen), chosen);
  }

  get labels(): string[] {
    return this.checkpoint.config.labels;
  }

  /** Entities in `text` with character offsets and a confidence in [0, 1]. */
  predict(text: string): Promise<PredictedEntity[]> {
    return predictText(text, this.checkpoint, this.backend);
  }

  /** Entity-level scores (seqeval semantics) on an annotated corpus. */
  async evaluate(path: string, format: CorpusFormat = 'auto'): Promise<EntityScores> {
    const { sentences } = await loadSentences(path, format, this.checkpoint.config.scheme);
    const { model, encoder, config } = this.checkpoint;
    return (await evaluate(model, encoder, config.labels, sentences, this.backend, config.scheme)).scores;
  }

  dispose(): void {
    this.checkpoint.model.dispose();
  }
}

export const loadTagger = Tagger.load;
