// NER models composed from the layers: BiLSTM-CRF, BERT-softmax, BERT-CRF, BERT-BiLSTM-CRF.
export { BiLstmCrf, type BiLstmCrfOptions } from './bilstm-crf.js';
export { BertTagger, BertSoftmax, BertCrf, BertBiLstmCrf, type BertTaggerOptions } from './bert-tagger.js';
export { headLoss, headDecode, type HeadKind } from './head.js';
export { firstSubwordPooling, meanSubwordPooling, wordSpans, type WordPooling } from './pooling.js';
export { checkWords, checkSubwords, type NerBatch } from './batch.js';
