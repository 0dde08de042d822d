// The four tiny checkpoints on the WebGPU backend: loaded straight onto the device and run
// there, they give the reference hidden states within 1e-4 on every real (unpadded) position.
// (RoBERTa's padded positions are numbered differently off the host; they are masked anyway.)

import { describe, expect, it } from 'vitest';
import { cpuBackend, setBackend, tensor, tidy } from '../../src/index.js';
import { readHfConfig } from '../../src/io/hf-config.js';
import { BertCrf } from '../../src/models/bert-tagger.js';
import { loadPretrainedWeights } from '../../src/train/pretrained.js';
import { webgpu } from '../webgpu/setup.js';
import { ARCHITECTURES, fixtureDir, loadExpected } from './helpers.js';

describe.each(ARCHITECTURES)('%s checkpoint on WebGPU', (arch) => {
  it('matches the reference on every real position (<= 1e-4)', async () => {
    const gpu = await webgpu();
    setBackend(gpu);
    try {
      const dir = fixtureDir(arch);
      const expected = loadExpected(arch);
      const tagger = new BertCrf({ encoder: readHfConfig(dir), numTags: 3 });
      loadPretrainedWeights(tagger, dir, gpu);
      tagger.eval();
      const [B, S, H] = expected.lastHiddenState.shape;
      const output = tidy(() =>
        tagger.bert.forward(tensor(Int32Array.from(expected.inputIds.flat()), [B, S], { dtype: 'i32', backend: gpu }), {
          attentionMask: tensor(Float32Array.from(expected.attentionMask.flat()), [B, S], { backend: gpu }),
          tokenTypeIds: expected.tokenTypeIds ? tensor(Int32Array.from(expected.tokenTypeIds.flat()), [B, S], { dtype: 'i32', backend: gpu }) : null,
        }).lastHiddenState,
      );
      const values = await output.data();
      output.dispose();
      let worst = 0;
      for (let b = 0; b < B; b++) {
        for (let s = 0; s < S; s++) {
          if (expected.attentionMask[b]![s] !== 1) continue;
          for (let h = 0; h < H; h++) {
            const i = (b * S + s) * H + h;
            worst = Math.max(worst, Math.abs(values[i]! - expected.lastHiddenState.data[i]!));
          }
        }
      }
      console.log(`${arch} on WebGPU: max error ${worst.toExponential(2)}`);
      expect(worst).toBeLessThanOrEqual(1e-4);
      tagger.dispose();
    } finally {
      setBackend(cpuBackend);
    }
  });
});
