// BERT taggers: BERT -> subword-to-word pooling ('first' or 'mean') -> [BiLSTM] -> Linear ->
// CRF or softmax over words. BertSoftmax, BertCrf and BertBiLstmCrf are its three settings.
// Parameter names follow HF's BertForTokenClassification (bert.*, classifier.*) plus lstm.*
// (torch.nn.LSTM) and crf.* (pytorch-crf), so a BERT checkpoint loads into `bert` as it is.
// The encoder may also be RoBERTa, DistilBERT, ALBERT or GPT-Neo (config model_type): it is still held
// under `bert.`, so the trainer's encoder/head learning-rate split by that prefix holds for all.
// B = batch, S = subwords, T = words, H = BERT hidden, K = LSTM hidden per direction, C = tags

import type { Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/scope.js';
import { noGrad } from '../autograd/grad-mode.js';
import { Module } from '../nn/module.js';
import { Dropout, Linear } from '../nn/linear.js';
import { BiLSTM, unpackSequences } from '../nn/lstm.js';
import type { EncoderConfig } from '../nn/encoder-config.js';
import { createEncoder, type TokenEncoder } from '../nn/encoders.js';
import { LinearChainCrf } from '../crf/linear.js';
import { createCrf, crfScoreColumns } from '../crf/create.js';
import type { CrfSpec, CrfVariant } from '../crf/variant.js';
import { checkSubwords, checkWords, requireField, type NerBatch } from './batch.js';
import { firstSubwordPooling, meanSubwordPooling, wordSpans, type WordPooling } from './pooling.js';
import { headDecode, headLoss, type HeadKind } from './head.js';

export interface BertTaggerOptions {
  /**
   * The encoder's config, of any architecture: encoderConfig({ vocabSize, ... }) for one trained from
   * scratch (the rest bert-base's), or a pretrained model's readHfConfig(dir).
   */
  encoder: EncoderConfig;
  numTags: number;
  head?: HeadKind; // default 'crf'
  /** Which CRF the 'crf' head uses (src/crf/variant.ts); default the linear-chain CRF over numTags. */
  crf?: CrfSpec;
  /** Hidden size per direction of a BiLSTM between BERT and the classifier; 0 or absent = none. */
  lstmHidden?: number;
  pooling?: WordPooling; // default 'first'
  /** Dropout before the classifier; default the config's hidden_dropout_prob (HF's classifier_dropout). */
  dropout?: number;
}

export class BertTagger extends Module {
  readonly head: HeadKind;
  /** Per-tag weights [C] of the softmax head's cross-entropy (inverse frequency, say); null = unweighted. */
  classWeights: Tensor | null = null;
  readonly pooling: WordPooling;
  /** The encoder, of any architecture (the name is HF's BertForTokenClassification's). */
  readonly bert: TokenEncoder;
  readonly lstm: BiLSTM | null;
  readonly classifier: Linear;
  readonly crf: CrfVariant | null;
  readonly dropout: Dropout;

  constructor(readonly options: BertTaggerOptions, protected readonly kind = 'BertTagger') {
    super();
    this.head = options.head ?? 'crf';
    this.pooling = options.pooling ?? 'first';
    if (this.head !== 'crf' && this.head !== 'softmax') throw new Error(`${kind}: head must be 'crf' or 'softmax', got '${String(this.head)}'`);
    if (this.pooling !== 'first' && this.pooling !== 'mean') throw new Error(`${kind}: pooling must be 'first' or 'mean', got '${String(this.pooling)}'`);
    this.bert = this.child('bert', createEncoder(options.encoder));
    const H = this.bert.hiddenSize;
    const K = options.lstmHidden ?? 0;
    this.lstm = K > 0 ? this.child('lstm', new BiLSTM(H, K)) : null;
    this.classifier = this.child('classifier', new Linear(K > 0 ? 2 * K : H, this.scoreColumns(), { initStd: this.bert.initializerRange }));
    this.crf = this.head === 'crf' ? this.child('crf', options.crf ? createCrf(options.crf) : new LinearChainCrf(options.numTags)) : null;
    this.dropout = this.child('dropout', new Dropout(options.dropout ?? this.bert.hiddenDropout));
  }

  /** Columns of the classifier: the tags, or what the CRF variant scores per word (segment labels). */
  private scoreColumns(): number {
    const spec = this.options.crf;
    if ((this.options.head ?? 'crf') !== 'crf' || !spec) return this.options.numTags;
    if (spec.labels.length !== this.options.numTags) throw new Error(`${this.constructor.name}: options.crf names ${spec.labels.length} tags for ${this.options.numTags}`);
    return crfScoreColumns(spec);
  }

  /** Emission scores over words [B, T, C], the sentence lengths (in words) and the gold tags on the host (when the batch has tags). */
  emissions(batch: NerBatch, who = this.kind): { emissions: Tensor; lengths: number[]; tags: Int32Array | null } {
    const { B, T, lengths, tags } = checkWords(who, batch, this.options.numTags);
    const { starts, ends, subwordLengths } = checkSubwords(who, batch, B, T, lengths);
    const subwordIds = requireField(who, batch, 'subwordIds');
    const maxLength = this.bert.maxInputLength;
    if (subwordIds.shape[1]! > maxLength) {
      const name = { bert: 'BERT', roberta: 'RoBERTa', distilbert: 'DistilBERT', albert: 'ALBERT', modernbert: 'ModernBERT', gpt_neo: 'GPT-Neo' }[this.bert.modelType];
      const offset = this.bert.maxPositions - maxLength;
      const table = `max_position_embeddings = ${this.bert.maxPositions}${offset ? `, positions from ${offset}: at most ${maxLength} subwords` : ''}`;
      throw new Error(`${who}: subwordIds ${`[${subwordIds.shape.join(', ')}]`} hold ${subwordIds.shape[1]} subwords per sentence, more than ${name}'s position table (${table}); window long sentences (src/text/windows.ts)`);
    }
    const encoded = this.bert.forward(subwordIds, { attentionMask: batch.attentionMask, tokenTypeIds: batch.tokenTypeIds }).lastHiddenState;
    const hidden = this.bert.tokenFeatures ? this.bert.tokenFeatures(encoded) : encoded;
    const words =
      this.pooling === 'first'
        ? firstSubwordPooling(hidden, starts, lengths, T)
        : meanSubwordPooling(hidden, starts, wordSpans(starts, ends, lengths, subwordLengths, T, who), lengths, T);
    if (!this.lstm) return { emissions: this.classifier.forward(this.dropout.forward(words)), lengths, tags };
    // The classifier scores the BiLSTM's real words only; padded positions get its score for a
    // zero input (the bias), what PyTorch computes there.
    const { output, packing } = this.lstm.forwardPacked(words, lengths);
    const scores = this.classifier.forward(this.dropout.forward(output));
    return { emissions: unpackSequences(scores, packing, lengths.length, T, this.classifier.zeroInputRow()), lengths, tags };
  }

  /** Mean loss over the batch (CRF NLL per sentence, or cross-entropy per word). */
  loss(batch: NerBatch): Tensor {
    const who = `${this.kind}.loss`;
    requireField(who, batch, 'tags');
    const { emissions, lengths, tags } = this.emissions(batch, who);
    return headLoss(this.head, this.crf, emissions, tags!, lengths, who, this.classWeights);
  }

  /** Best tag ids per sentence, trimmed to each sentence's length. */
  async predict(batch: NerBatch): Promise<number[][]> {
    const { emissions, lengths } = noGrad(() => tidy(() => this.emissions(batch, `${this.kind}.predict`)));
    try {
      return await headDecode(this.head, this.crf, emissions, lengths);
    } finally {
      emissions.dispose();
    }
  }
}

type Preset = Omit<BertTaggerOptions, 'head' | 'lstmHidden'>;

/** BERT -> Linear -> softmax: the BertForTokenClassification baseline. */
export class BertSoftmax extends BertTagger {
  constructor(options: Preset) {
    super({ ...options, head: 'softmax', lstmHidden: 0 }, 'BertSoftmax');
  }
}

/** BERT -> Linear -> CRF. */
export class BertCrf extends BertTagger {
  constructor(options: Preset) {
    super({ ...options, head: 'crf', lstmHidden: 0 }, 'BertCrf');
  }
}

/** BERT -> BiLSTM -> Linear -> CRF; lstmHidden defaults to 256 per direction. */
export class BertBiLstmCrf extends BertTagger {
  constructor(options: Preset & { lstmHidden?: number; head?: HeadKind }) {
    super({ ...options, head: options.head ?? 'crf', lstmHidden: options.lstmHidden ?? 256 }, 'BertBiLstmCrf');
  }
}
