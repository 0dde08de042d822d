// LSTM and BiLSTM, batch-first, over variable-length sequences, as torch.nn.LSTM with
// pack_padded_sequence + pad_packed_sequence: the reverse direction starts at each sequence's
// last real token, padding never reaches a state, and padded outputs are 0.
// Parameter names are PyTorch's: weight_ih_l0 [4H, I], weight_hh_l0 [4H, H], bias_ih_l0,
// bias_hh_l0, and *_reverse, gates in PyTorch's order (i, f, g, o).
// B = batch, T = tokens, I = input features, H = hidden per direction, G = 4H gates

import { Tensor, tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import type { Storage } from '../backend/backend.js';
import { record } from '../autograd/backward.js';
import { isGradEnabled } from '../autograd/grad-mode.js';
import { add, concat, dropout, indexSelect, matmul, mul, reshape } from '../ops/index.js';
import { out } from '../ops/util.js';
import { Module } from './module.js';
import { torchDefaultUniform } from './init.js';

/**
 * The whole recurrence of one direction as a single op: xProj [B, T, G] (x W_ih^T + biases,
 * precomputed for all steps in one matmul) and weightHH [G, H] -> h for every step [B, T, H].
 * Each step is one matmul and the fused lstmCell kernel; the backward pass is explicit
 * backpropagation through time with lstmCellBackward, so a sentence costs one graph node,
 * not five per token. Initial states are zero.
 */
export function lstmRecurrence(xProj: Tensor, weightHH: Tensor): Tensor {
  if (xProj.rank !== 3 || weightHH.rank !== 2 || xProj.shape[2] !== weightHH.shape[0] || weightHH.shape[0] !== 4 * weightHH.shape[1]!) {
    throw new Error(`lstmRecurrence: expected xProj [B, T, 4H] and weightHH [4H, H], got ${fmt(xProj.shape)} and ${fmt(weightHH.shape)}`);
  }
  const backend = xProj.backend;
  const [B, T, G] = xProj.shape as [number, number, number];
  const H = G / 4;
  const rowsOf = (width: number) => ({ outShape: [B, width], stridesA: [width, 1], stridesB: [width, 1] });
  const recurrent = (h: Storage) => backend.matmul(h, weightHH.storage, { batch: 1, m: B, k: H, n: G, transA: false, transB: true, batchStrideA: 0, batchStrideB: 0 });
  const output = backend.zeros(B * T * H, 'f32');
  const zeroState = backend.zeros(B * H, 'f32');
  const hs: Storage[] = [];
  const cs: Storage[] = [];
  const acts: Storage[] = [];
  let h = zeroState;
  let c = zeroState;
  for (let t = 0; t < T; t++) {
    const fromInput = backend.zeros(B * G, 'f32');
    backend.copyStridedInPlace(xProj.storage, fromInput, { shape: [B, G], srcOffset: t * G, srcStrides: [T * G, 1], dstOffset: 0, dstStrides: [G, 1] });
    const fromState = recurrent(h);
    const gates = backend.binary('add', fromInput, fromState, rowsOf(G));
    backend.free(fromInput);
    backend.free(fromState);
    const step = backend.lstmCell(gates, c, B, H);
    backend.free(gates);
    backend.copyStridedInPlace(step.h, output, { shape: [B, H], srcOffset: 0, srcStrides: [H, 1], dstOffset: t * H, dstStrides: [T * H, 1] });
    hs.push(step.h);
    cs.push(step.c);
    acts.push(step.act);
    h = step.h;
    c = step.c;
  }
  const y = out(output, [B, T, H], xProj);
  if (!isGradEnabled() || !(xProj.requiresGrad || weightHH.requiresGrad)) {
    for (const s of [zeroState, ...hs, ...cs, ...acts]) backend.free(s);
    return y;
  }
  // Saved for backward as tensors, so the enclosing tidy scope frees them with the graph.
  for (const s of [zeroState, ...hs, ...cs, ...acts]) out(s, [s.size], xProj);
  return record(y, 'lstmRecurrence', [xProj, weightHH], (g) => {
    const dxProj = backend.zeros(B * T * G, 'f32');
    const dWeight = backend.zeros(G * H, 'f32');
    let dhNext = backend.zeros(B * H, 'f32');
    let dcNext = backend.zeros(B * H, 'f32');
    for (let t = T - 1; t >= 0; t--) {
      const upstream = backend.zeros(B * H, 'f32');
      backend.copyStridedInPlace(g.storage, upstream, { shape: [B, H], srcOffset: t * H, srcStrides: [T * H, 1], dstOffset: 0, dstStrides: [H, 1] });
      const dh = backend.binary('add', upstream, dhNext, rowsOf(H));
      backend.free(upstream);
      const hPrev = t > 0 ? hs[t - 1]! : zeroState;
      const cPrev = t > 0 ? cs[t - 1]! : zeroState;
      const { dGates, dcPrev } = backend.lstmCellBackward(dh, dcNext, acts[t]!, cPrev, cs[t]!, B, H);
      backend.free(dh);
      backend.free(dcNext);
      backend.free(dhNext);
      backend.copyStridedInPlace(dGates, dxProj, { shape: [B, G], srcOffset: 0, srcStrides: [G, 1], dstOffset: t * G, dstStrides: [T * G, 1] });
      if (t > 0) {
        // dW_hh += dGates^T h_{t-1}; at t = 0 the previous state is 0 and adds nothing.
        const dW = backend.matmul(dGates, hPrev, { batch: 1, m: G, k: B, n: H, transA: true, transB: false, batchStrideA: 0, batchStrideB: 0 });
        backend.addInPlace(dWeight, dW);
        backend.free(dW);
      }
      dhNext = backend.matmul(dGates, weightHH.storage, { batch: 1, m: B, k: G, n: H, transA: false, transB: false, batchStrideA: 0, batchStrideB: 0 });
      dcNext = dcPrev;
      backend.free(dGates);
    }
    backend.free(dhNext);
    backend.free(dcNext);
    return [out(dxProj, xProj.shape, xProj), out(dWeight, weightHH.shape, xProj)];
  });
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
  weightIH: Tensor;
  weightHH: Tensor;
  biasIH: Tensor | null;
  biasHH: Tensor | null;
}

/** Per-sequence reversal within its length: position t < len maps to len-1-t, padding stays put. */
function reversalIndex(lengths: readonly number[], steps: number): Int32Array {
  const index = new Int32Array(lengths.length * steps);
  lengths.forEach((length, b) => {
    for (let t = 0; t < steps; t++) index[b * steps + t] = b * steps + (t < length ? length - 1 - t : t);
  });
  return index;
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

  /** x [B, T, I]; lengths[b] = real tokens of sequence b (1..T). Returns [B, T, D*H]. */
  forward(x: Tensor, lengths: readonly number[]): Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.inputSize) throw new Error(`LSTM: input must be [B, T, ${this.inputSize}], got ${fmt(x.shape)}`);
    const [B, T] = x.shape as [number, number];
    if (lengths.length !== B) throw new Error(`LSTM: ${lengths.length} lengths given for a batch of ${B}`);
    lengths.forEach((length, b) => {
      if (!Number.isInteger(length) || length < 1 || length > T) throw new Error(`LSTM: length ${length} of sequence ${b} is outside 1..${T} (input ${fmt(x.shape)})`);
    });
    const maskValues = new Float32Array(B * T);
    lengths.forEach((length, b) => maskValues.fill(1, b * T, b * T + length));
    const mask = tensor(maskValues, [B, T, 1], { backend: x.backend });
    const needsReverse = this.bidirectional && lengths.some((length) => length > 1);
    const reversal = needsReverse ? tensor(reversalIndex(lengths, T), [B * T], { dtype: 'i32', backend: x.backend }) : null;
    const reverse = (t: Tensor) => (reversal ? reshape(indexSelect(reshape(t, [B * T, t.shape[2]!]), 0, reversal), t.shape) : t);

    let input = x;
    this.layers.forEach((dirs, layer) => {
      if (layer > 0 && this.dropout > 0) input = dropout(input, this.dropout, this.training);
      const outputs = dirs.map((dir, d) => {
        // The reverse direction reads each sequence backwards from its last real token, so its
        // padding comes after the real steps and never reaches a real step's state.
        const source = d === 1 ? reverse(input) : input;
        let xProj = matmul(source, dir.weightIH, { transB: true });
        if (dir.biasIH && dir.biasHH) xProj = add(xProj, add(dir.biasIH, dir.biasHH));
        const hidden = lstmRecurrence(xProj, dir.weightHH);
        return d === 1 ? reverse(hidden) : hidden;
      });
      const joined = outputs.length === 1 ? outputs[0]! : concat(outputs, 2);
      input = mul(joined, mask); // padded outputs are 0, as pad_packed_sequence gives
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
