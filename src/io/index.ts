// Checkpoint I/O: safetensors files and Hugging Face model directories. The name mapping and
// shape checks behind `--pretrained` (hf-config.ts) and the float16 encoders stay internal.
export {
  SafetensorsReader, loadSafetensors, saveSafetensors, parseSafetensorsHeader, SAFETENSORS_DTYPE_BYTES, loadSafetensorsBytes, serializeSafetensors,
  type SafetensorsDType, type SafetensorsEntry, type SafetensorsHeader, type LoadOptions, type SaveOptions, type HostTensor,
} from './safetensors.js';
export { readHfConfig, parseHfConfig, fromHfConfigJson, toHfConfigJson, checkpointFiles, type EncoderConfig, type EncoderType } from './hf-config.js';
