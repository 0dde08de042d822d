// Linear, Embedding, LayerNorm, Dropout: the four building blocks every model here is made of.
// Weights are stored in PyTorch's layouts (Linear [out, in]) so checkpoints load unchanged.
// B = batch, T = tokens, H = hidden (in), O = out features, V = vocabulary

import { Tensor, tensor, zeros } from '../tensor/tensor.js';
import { getBackend } from '../backend/registry.js';
import { globalRng } from '../tensor/random.js';
import { checkShape, fmt } from '../tensor/shape.js';
import { add, matmul, reshape } from '../ops/index.js';
import { dropout, layerNorm } from '../ops/fused.js';
import { linearInt8 } from '../ops/quantized.js';
import { embedding } from '../ops/indexing.js';
import { Module } from './module.js';
import { normalInit, onesInit, torchDefaultUniform, zerosInit } from './init.js';
import { readHost } from './host.js';

export interface LinearOptions {
  bias?: boolean;
  /** Hugging Face init: weight ~ normal(0, initStd), bias 0. Default: torch's kaiming-uniform. */
  initStd?: number;
}

/** y = x W^T + b over the last axis: x [..., H] -> [..., O]; weight [O, H], bias [O]. After quantizeDynamic (quantize.ts), W is int8. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super();
    const std = options.initStd;
    this.weight = this.param('weight', std === undefined ? torchDefaultUniform([outFeatures, inFeatures], inFeatures) : normalInit([outFeatures, inFeatures], std));
    this.bias = options.bias === false ? null : this.param('bias', std === undefined ? torchDefaultUniform([outFeatures], inFeatures) : zerosInit([outFeatures]));
  }

  forward(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures) {
      throw new Error(`Linear(${this.inFeatures} -> ${this.outFeatures}): input ${fmt(x.shape)} must end in ${this.inFeatures}`);
    }
    const int8 = this.quantized('weight');
    if (int8) return linearInt8(x, int8, this.bias);
    const y = matmul(x, this.weight, { transB: true });
    return this.bias ? add(y, this.bias) : y;
  }

  /** The output for an all-zero input, [1, O]: the bias (or zeros); what a padded position scores. */
  zeroInputRow(): Tensor {
    return this.bias ? reshape(this.bias, [1, this.outFeatures]) : zeros([1, this.outFeatures], { backend: this.quantized('weight') ? undefined : this.weight.backend });
  }
}

export interface EmbeddingOptions {
  /** Hugging Face init normal(0, initStd); torch's default is normal(0, 1). */
  initStd?: number;
  /** Row zeroed at init (torch's padding_idx; HF's pad_token_id). Its gradient is not masked as torch does; in the taggers padded positions are excluded from attention keys, pooling and losses, so the row gets none anyway. */
  paddingIdx?: number;
}

/** Lookup table: ids i32 [...] -> [..., D]; weight [V, D]. */
export class Embedding extends Module {
  readonly weight: Tensor;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    const std = options.initStd ?? 1;
    // Drawn on the host so the padding row can be zeroed before the tensor exists; the shape is checked (and
    // counted against an allocation limit) before the host array is.
    const shape = checkShape('Embedding', [numEmbeddings, embeddingDim]);
    const values = new Float32Array(numEmbeddings * embeddingDim);
    for (let i = 0; i < values.length; i++) values[i] = std * globalRng.normal(); // a plain loop: Float32Array.from with a callback is ~10x slower
    if (options.paddingIdx !== undefined) values.fill(0, options.paddingIdx * embeddingDim, (options.paddingIdx + 1) * embeddingDim);
    const backend = getBackend();
    this.weight = this.param('weight', Tensor.fromStorage(backend.fromArray(values), shape, backend));
  }

  /** `who` names the caller in the out-of-range error (e.g. 'BertEmbeddings.word_embeddings'). */
  forward(ids: Tensor, who = 'Embedding'): Tensor {
    this.checkIds(ids, who);
    return embedding(this.weight, ids);
  }

  /** Throw, naming the id and its position in `ids`, if an id is outside the table (where ids are readable on the host). */
  checkIds(ids: Tensor, who = 'Embedding'): void {
    if (ids.dtype !== 'i32') throw new Error(`${who}: ids must be i32, got ${ids.dtype} ${fmt(ids.shape)}`);
    // An out-of-range id would read another row's memory on a GPU; say which one is wrong.
    const values = readHost(ids);
    if (values) {
      for (let i = 0; i < values.length; i++) {
        const id = values[i]!;
        if (id < 0 || id >= this.numEmbeddings) {
          const position = unravel(i, ids.shape);
          throw new Error(`${who}: id ${id} at position [${position.join(', ')}] of ids ${fmt(ids.shape)} is outside the table of ${this.numEmbeddings} rows`);
        }
      }
    }
  }
}

function unravel(index: number, shape: readonly number[]): number[] {
  const position = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    position[d] = index % shape[d]!;
    index = Math.floor(index / shape[d]!);
  }
  return position;
}

/** LayerNorm over the last axis, weight (gamma) 1 and bias (beta) 0 at init; HF names weight/bias. */
export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly dim: number, readonly eps = 1e-5) {
    super();
    this.weight = this.param('weight', onesInit([dim]));
    this.bias = this.param('bias', zerosInit([dim]));
  }

  forward(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.dim) throw new Error(`LayerNorm(${this.dim}): input ${fmt(x.shape)} must end in ${this.dim}`);
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** Inverted dropout in training mode, identity in eval mode (module.eval()). */
export class Dropout extends Module {
  constructor(readonly p: number) {
    super();
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p must be in [0, 1), got ${p}`);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
}
