// The page's training run, step by step, exactly as `medner train` sets it up: the
// default BiLSTM-CRF, the training words and characters as vocabularies, the seed,
// the length-bucketed shuffled batches (makeBatches), AdamW with the linear warmup
// and decay, and the same training step (src/train/step.ts). It runs in the page's
// worker (engine.ts) and in Node (bench/web-page.bench.ts times both).

import type { Backend } from '../../src/backend/backend.js';
import type { Sentence } from '../../src/data/types.js';
import { AdamW } from '../../src/optim/adamw.js';
import { LrScheduler, makeSchedule } from '../../src/optim/schedule.js';
import { Rng, manualSeed } from '../../src/tensor/random.js';
import type { TrainConfig } from '../../src/train/config.js';
import { chunkSentences, type Chunk, type SentenceEncoder } from '../../src/train/encode.js';
import { createModel, type ModelVocabulary, type NerModel } from '../../src/train/model-factory.js';
import { applyUpdate, backpropagate, type StepContext } from '../../src/train/step.js';
import { makeBatches } from '../../src/train/trainer.js';
import { buildCharVocabulary, buildLabelList, buildWordVocabulary } from '../../src/train/vocab.js';

export interface StepReport {
  epoch: number;
  /** Mean CRF negative log-likelihood per sentence of the batch. */
  loss: number;
  sentences: number;
  tokens: number;
  seconds: number;
}

export class TrainingSession {
  readonly labels: string[];
  readonly vocabulary: ModelVocabulary;
  readonly model: NerModel;
  readonly encoder: SentenceEncoder;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  readonly parameters: number;
  epoch = 0;
  private readonly chunks: Chunk[];
  private readonly context: StepContext;
  private readonly scheduler: LrScheduler;
  private readonly shuffleRng: Rng;
  private batches: number[][] = [];
  private next = 0;

  constructor(train: readonly Sentence[], readonly config: TrainConfig, backend: Backend) {
    manualSeed(config.seed);
    this.shuffleRng = new Rng(config.seed + 1);
    this.labels = buildLabelList(train);
    this.vocabulary = {
      kind: 'words',
      words: buildWordVocabulary(train, config.minWordCount, config.lowercase),
      chars: config.charFeatures === 'cnn' ? buildCharVocabulary(train) : null,
    };
    const { model, encoder } = createModel(config, this.vocabulary, this.labels, null);
    this.model = model;
    this.encoder = encoder;
    this.chunks = chunkSentences(train, encoder).filter((c) => c.tokens.length > 0);
    this.stepsPerEpoch = Math.ceil(Math.ceil(this.chunks.length / config.batchSize) / config.gradAccumulation);
    this.totalSteps = this.stepsPerEpoch * config.epochs;
    const named = model.namedParameters();
    this.parameters = named.reduce((n, [, p]) => n + p.size, 0);
    const optimizer = new AdamW([{ name: 'head', params: named, lr: config.lr }], { lr: config.lr, weightDecay: config.weightDecay });
    this.scheduler = new LrScheduler(optimizer, makeSchedule(config.schedule, { warmupSteps: Math.round(config.warmup * this.totalSteps), totalSteps: this.totalSteps }));
    this.context = { model, encoder, labelIndex: new Map(this.labels.map((l, i) => [l, i])), backend, params: named, optimizer, clip: config.clip };
  }

  /** One training step (one batch); null once every epoch is done. */
  async step(): Promise<StepReport | null> {
    if (this.next >= this.batches.length) {
      if (this.epoch >= this.config.epochs) return null;
      this.epoch++;
      this.batches = makeBatches(this.chunks, this.config.batchSize, this.shuffleRng);
      this.next = 0;
      this.model.train();
    }
    const i = this.next++;
    const batch = this.batches[i]!.map((j) => this.chunks[j]!);
    const started = performance.now();
    const loss = backpropagate(this.context, batch, this.config.gradAccumulation);
    if ((i + 1) % this.config.gradAccumulation === 0 || i === this.batches.length - 1) {
      applyUpdate(this.context);
      this.scheduler.step();
    }
    const value = (await loss.data())[0]!; // the step's one readback, as in the CLI
    loss.dispose();
    if (!Number.isFinite(value)) throw new Error(`training diverged at epoch ${this.epoch}, batch ${i + 1}: loss is ${value}`);
    return { epoch: this.epoch, loss: value, sentences: batch.length, tokens: batch.reduce((n, c) => n + c.tokens.length, 0), seconds: (performance.now() - started) / 1000 };
  }

  /** The optimizer's state; the model stays (a checkpoint may still be saved from it). */
  dispose(): void {
    this.context.optimizer.dispose?.();
  }
}
