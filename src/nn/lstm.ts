// LSTM and BiLSTM, batch-first, over variable-length sequences, as torch.nn.LSTM with
// pack_padded_sequence + pad_packed_sequence: the reverse direction starts at each sequence's
// last real token, padding never reaches a state, and padded outputs are 0.
// Parameter names are PyTorch's: weight_ih_l0 [4H, I], weight_hh_l0 [4H, H], bias_ih_l0,
// bias_hh_l0, and *_reverse, gates in PyTorch's order (i, f, g, o).
// B = batch, T = tokens, I = input features, H = hidden per direction, G = 4H gates

import { Tensor, tensor, zeros } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { add, concat, dropout, indexSelect, linearInt8, lstmRecurrence, lstmRecurrenceInt8, matmul, reshape } from '../ops/index.js';
import { Module } from './module.js';
import { torchDefaultUniform } from './init.js';

/**
 * PyTorch's pack_padded_sequence for left-aligned sequences in [B, T]: the sequences sorted by
 * length (longest first), then time-major, so step t holds batchSizes[t] rows and the sequences
 * still running are a prefix. Index maps, all Int32Array:
 * - forward[p]: the padded position (b*T + t) of packed row p; unpack[b*T + t]: its packed row,
 *   or N (a zero row appended) for padding, so unpacked padding is 0 as pad_packed_sequence gives.
 * - The reverse direction reads each sequence backwards from its last real token, in its own
 *   packed order: reverseReads[q] is the (forward) packed row that reverse row q reads, and
 *   reverseAligned[p] the reverse row that holds packed row p's token.
 */
export function packSequences(lengths: readonly number[], steps: number) {
  const order = lengths.map((_, b) => b).sort((x, y) => lengths[y]! - lengths[x]! || x - y);
  const longest = lengths[order[0]!] ?? 0;
  const batchSizes: number[] = [];
  for (let t = 0; t < longest; t++) batchSizes.push(order.filter((b) => lengths[b]! > t).length);
  const rows = batchSizes.reduce((total, n) => total + n, 0);
  const forward = new Int32Array(rows);
  const unpack = new Int32Array(lengths.length * steps).fill(rows);
  let row = 0;
  batchSizes.forEach((n, t) => {
    for (let i = 0; i < n; i++, row++) {
      forward[row] = order[i]! * steps + t;
      unpack[forward[row]!] = row;
    }
  });
  const reverseReads = new Int32Array(rows);
  const reverseAligned = new Int32Array(rows);
  row = 0;
  batchSizes.forEach((n, t) => {
    for (let i = 0; i < n; i++, row++) {
      const b = order[i]!;
      reverseReads[row] = unpack[b * steps + lengths[b]! - 1 - t]!;
      reverseAligned[reverseReads[row]!] = row;
    }
  });
  return { batchSizes, forward, unpack, reverseReads, reverseAligned };
}

export type Packing = ReturnType<typeof packSequences>;

/**
 * Packed rows [N, F] -> [B, T, F], padded positions 0 (pad_packed_sequence) or `padding` [1, F]
 * (a head's output for a zero input, as PyTorch computes it at padded positions).
 */
export function unpackSequences(rows: Tensor, packing: Packing, batch: number, steps: number, padding?: Tensor): Tensor {
  const features = rows.shape[1]!;
  const withZero = concat([rows, padding ?? zeros([1, features], { backend: rows.backend })], 0);
  const positions = tensor(packing.unpack, [packing.unpack.length], { dtype: 'i32', backend: rows.backend });
  return reshape(indexSelect(withZero, 0, positions), [batch, steps, features]);
}

export interface LstmOptions {
  numLayers?: number;
  bidirectional?: boolean;
  /** Dropout on the outputs of every layer but the last, as torch.nn.LSTM's `dropout`. */
  dropout?: number;
  /** Include bias_ih / bias_hh (torch's `bias`). Default true. */
  bias?: boolean;
}

interface Direction {
  /** The parameter names' ending: _l0, _l0_reverse, ... */
  suffix: string;
  weightIH: Tensor;
  weightHH: Tensor;
  biasIH: Tensor | null;
  biasHH: Tensor | null;
}

/**
 * torch.nn.LSTM(batch_first=True) over padded, left-aligned sequences.
 * forward(x [B, T, I], lengths) -> [B, T, D*H] with D = 2 when bidirectional; forward and
 * reverse outputs are concatenated on the last axis (forward first), 0 at padded positions.
 */
export class LSTM extends Module {
  readonly numLayers: number;
  readonly bidirectional: boolean;
  readonly dropout: number;
  private readonly layers: Direction[][] = [];

  constructor(readonly inputSize: number, readonly hiddenSize: number, options: LstmOptions = {}) {
    super();
    this.numLayers = options.numLayers ?? 1;
    this.bidirectional = options.bidirectional ?? false;
    this.dropout = options.dropout ?? 0;
    const directions = this.bidirectional ? 2 : 1;
    const H = hiddenSize;
    // torch initialises every LSTM weight and bias from uniform(-1/sqrt(H), 1/sqrt(H)).
    const init = (shape: number[]) => torchDefaultUniform(shape, H);
    for (let layer = 0; layer < this.numLayers; layer++) {
      const input = layer === 0 ? inputSize : H * directions;
      const dirs: Direction[] = [];
      for (let d = 0; d < directions; d++) {
        const suffix = `_l${layer}${d === 1 ? '_reverse' : ''}`;
        dirs.push({
          suffix,
          weightIH: this.param(`weight_ih${suffix}`, init([4 * H, input])),
          weightHH: this.param(`weight_hh${suffix}`, init([4 * H, H])),
          biasIH: options.bias === false ? null : this.param(`bias_ih${suffix}`, init([4 * H])),
          biasHH: options.bias === false ? null : this.param(`bias_hh${suffix}`, init([4 * H])),
        });
      }
      this.layers.push(dirs);
    }
  }

  get outputSize(): number {
    return this.hiddenSize * (this.bidirectional ? 2 : 1);
  }

  /** x [B, T, I]; lengths[b] = real tokens of sequence b (1..T). Returns [B, T, D*H], 0 at padding. */
  forward(x: Tensor, lengths: readonly number[]): Tensor {
    const { output, packing } = this.forwardPacked(x, lengths);
    return unpackSequences(output, packing, x.shape[0]!, x.shape[1]!);
  }

  /**
   * The same over real tokens only: output [N, D*H] in packed order (packing.forward gives each
   * row's position), for a head that can score packed rows and unpack only its scores.
   */
  forwardPacked(x: Tensor, lengths: readonly number[]): { output: Tensor; packing: Packing } {
    if (x.rank !== 3 || x.shape[2] !== this.inputSize) throw new Error(`LSTM: input must be [B, T, ${this.inputSize}], got ${fmt(x.shape)}`);
    const [B, T] = x.shape as [number, number];
    if (lengths.length !== B) throw new Error(`LSTM: ${lengths.length} lengths given for a batch of ${B}`);
    lengths.forEach((length, b) => {
      if (!Number.isInteger(length) || length < 1 || length > T) throw new Error(`LSTM: length ${length} of sequence ${b} is outside 1..${T} (input ${fmt(x.shape)})`);
    });
    // Pack once: the LSTM then computes only real tokens, as torch over a PackedSequence.
    const packing = packSequences(lengths, T);
    const rows = indexSelect(reshape(x, [B * T, this.inputSize]), 0, tensor(packing.forward, [packing.forward.length], { dtype: 'i32', backend: x.backend }));
    return { output: this.forwardPackedRows(rows, packing), packing };
  }

  /** The LSTM over input rows already packed ([N, I] in `packing`'s order): returns [N, D*H]. */
  forwardPackedRows(rows: Tensor, packing: Packing): Tensor {
    if (rows.rank !== 2 || rows.shape[1] !== this.inputSize || rows.shape[0] !== packing.forward.length) {
      throw new Error(`LSTM: packed input must be [${packing.forward.length}, ${this.inputSize}], got ${fmt(rows.shape)}`);
    }
    const index = (values: Int32Array) => tensor(values, [values.length], { dtype: 'i32', backend: rows.backend });
    const reverseReads = index(packing.reverseReads);
    const reverseAligned = index(packing.reverseAligned);
    let input = rows;
    this.layers.forEach((dirs, layer) => {
      if (layer > 0 && this.dropout > 0) input = dropout(input, this.dropout, this.training);
      const outputs = dirs.map((dir, d) => {
        // The reverse direction reads each sequence backwards, in its own packed order.
        const x = d === 1 ? indexSelect(input, 0, reverseReads) : input;
        // After quantizeDynamic (quantize.ts) both weights are int8: the input projection and every recurrent step run in int8.
        const [int8IH, int8HH] = [this.quantized(`weight_ih${dir.suffix}`), this.quantized(`weight_hh${dir.suffix}`)];
        const bias = dir.biasIH && dir.biasHH ? add(dir.biasIH, dir.biasHH) : null;
        let xProj: Tensor; // [N, 4H]
        if (int8IH) xProj = linearInt8(x, int8IH, bias);
        else {
          xProj = matmul(x, dir.weightIH, { transB: true });
          if (bias) xProj = add(xProj, bias);
        }
        const hidden = int8HH ? lstmRecurrenceInt8(xProj, int8HH, packing.batchSizes) : lstmRecurrence(xProj, dir.weightHH, packing.batchSizes); // [N, H]
        return d === 1 ? indexSelect(hidden, 0, reverseAligned) : hidden;
      });
      input = outputs.length === 1 ? outputs[0]! : concat(outputs, 1);
    });
    return input;
  }
}

/** A bidirectional LSTM (torch.nn.LSTM(bidirectional=True)); output [B, T, 2H]. */
export class BiLSTM extends LSTM {
  constructor(inputSize: number, hiddenSize: number, options: Omit<LstmOptions, 'bidirectional'> = {}) {
    super(inputSize, hiddenSize, { ...options, bidirectional: true });
  }
}
