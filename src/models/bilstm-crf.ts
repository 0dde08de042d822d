// BiLSTM-CRF (Lample et al. 2016; Ma & Hovy 2016): word embeddings (+ char-CNN features)
// -> dropout -> BiLSTM -> dropout -> Linear -> CRF (or softmax) over words.
// B = batch, T = words, L = characters per word, E = word embedding, H = LSTM hidden per direction, C = tags

import { tensor, type Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/scope.js';
import { noGrad } from '../autograd/grad-mode.js';
import { concat, indexSelect, reshape } from '../ops/index.js';
import { Module } from '../nn/module.js';
import { Dropout, Embedding, Linear } from '../nn/linear.js';
import { BiLSTM, packSequences, unpackSequences } from '../nn/lstm.js';
import { CharCNN, type CharCnnOptions } from '../nn/char-cnn.js';
import { LinearChainCrf } from '../crf/linear.js';
import { createCrf, crfScoreColumns } from '../crf/create.js';
import type { CrfSpec, CrfVariant } from '../crf/variant.js';
import { checkWords, requireField, type NerBatch } from './batch.js';
import { headDecode, headLoss, type HeadKind } from './head.js';

export interface BiLstmCrfOptions {
  vocabSize: number;
  numTags: number;
  wordDim?: number; // E, default 100
  hiddenSize?: number; // H per direction, default 100
  numLayers?: number; // default 1
  /** Char-CNN word features, concatenated to the word embedding. */
  chars?: CharCnnOptions;
  dropout?: number; // default 0.5
  head?: HeadKind; // default 'crf'
  /** Which CRF the 'crf' head uses (src/crf/variant.ts); default the linear-chain CRF over numTags. */
  crf?: CrfSpec;
  /** Word id of padding; its embedding starts at 0. Default 0. */
  paddingIdx?: number;
}

export class BiLstmCrf extends Module {
  readonly head: HeadKind;
  /** Per-tag weights [C] of the softmax head's cross-entropy (inverse frequency, say); null = unweighted. */
  classWeights: Tensor | null = null;
  readonly word_embeddings: Embedding;
  readonly char_cnn: CharCNN | null;
  readonly lstm: BiLSTM;
  readonly classifier: Linear;
  readonly crf: CrfVariant | null;
  readonly dropout: Dropout;

  constructor(readonly options: BiLstmCrfOptions) {
    super();
    const wordDim = options.wordDim ?? 100;
    const hidden = options.hiddenSize ?? 100;
    this.head = options.head ?? 'crf';
    if (this.head !== 'crf' && this.head !== 'softmax') throw new Error(`BiLstmCrf: head must be 'crf' or 'softmax', got '${String(this.head)}'`);
    this.word_embeddings = this.child('word_embeddings', new Embedding(options.vocabSize, wordDim, { paddingIdx: options.paddingIdx ?? 0 }));
    this.char_cnn = options.chars ? this.child('char_cnn', new CharCNN(options.chars)) : null;
    const inputSize = wordDim + (this.char_cnn?.outputSize ?? 0);
    this.lstm = this.child('lstm', new BiLSTM(inputSize, hidden, { numLayers: options.numLayers ?? 1 }));
    this.classifier = this.child('classifier', new Linear(2 * hidden, this.scoreColumns()));
    this.crf = this.head === 'crf' ? this.child('crf', options.crf ? createCrf(options.crf) : new LinearChainCrf(options.numTags)) : null;
    this.dropout = this.child('dropout', new Dropout(options.dropout ?? 0.5));
  }

  /** Columns of the classifier: the tags, or what the CRF variant scores per word (segment labels). */
  private scoreColumns(): number {
    const spec = this.options.crf;
    if ((this.options.head ?? 'crf') !== 'crf' || !spec) return this.options.numTags;
    if (spec.labels.length !== this.options.numTags) throw new Error(`${this.constructor.name}: options.crf names ${spec.labels.length} tags for ${this.options.numTags}`);
    return crfScoreColumns(spec);
  }

  /**
   * Emission scores [B, T, C], the sentence lengths and the gold tags on the host (when the batch
   * has tags). Everything between the embeddings and the classifier runs on the real words only,
   * packed as the BiLSTM wants them (nn/lstm.ts, packSequences): no work is spent on padding.
   */
  emissions(batch: NerBatch, who = 'BiLstmCrf'): { emissions: Tensor; lengths: number[]; tags: Int32Array | null } {
    const { lengths, tags } = checkWords(who, batch, this.options.numTags);
    const wordIds = requireField(who, batch, 'wordIds');
    const [B, T] = wordIds.shape as [number, number];
    const packing = packSequences(lengths, T);
    const N = packing.forward.length;
    const realWords = tensor(packing.forward, [N], { dtype: 'i32', backend: wordIds.backend });
    this.word_embeddings.checkIds(wordIds, `${who}: wordIds`); // positions in the batch, not the packed rows
    let features = this.word_embeddings.forward(indexSelect(reshape(wordIds, [B * T]), 0, realWords), `${who}: wordIds`); // [N, E]
    if (this.char_cnn) {
      const charIds = requireField(who, batch, 'charIds');
      const L = charIds.shape[2]!;
      this.char_cnn.embedding.checkIds(charIds, `${who}: charIds`);
      const words = reshape(indexSelect(reshape(charIds, [B * T, L]), 0, realWords), [1, N, L]);
      features = concat([features, reshape(this.char_cnn.forward(words), [N, this.char_cnn.outputSize])], 1);
    }
    const encoded = this.lstm.forwardPackedRows(this.dropout.forward(features), packing);
    const scores = this.classifier.forward(this.dropout.forward(encoded));
    // A padded position gets the classifier's score for a zero input (its bias), what PyTorch
    // computes there; the CRF masks it anyway.
    return { emissions: unpackSequences(scores, packing, B, T, this.classifier.zeroInputRow()), lengths, tags };
  }

  /** Mean loss over the batch (CRF NLL per sentence, or cross-entropy per word). */
  loss(batch: NerBatch): Tensor {
    const who = 'BiLstmCrf.loss';
    requireField(who, batch, 'tags');
    const { emissions, lengths, tags } = this.emissions(batch, who);
    return headLoss(this.head, this.crf, emissions, tags!, lengths, who, this.classWeights);
  }

  /** Best tag ids per sentence (Viterbi for the CRF head), trimmed to each sentence's length. */
  async predict(batch: NerBatch): Promise<number[][]> {
    const { emissions, lengths } = noGrad(() => tidy(() => this.emissions(batch, 'BiLstmCrf.predict')));
    try {
      return await headDecode(this.head, this.crf, emissions, lengths);
    } finally {
      emissions.dispose();
    }
  }
}
