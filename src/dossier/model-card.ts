/** The model card schema lives in src/domain (the release file and the ONNX loader read its `interface` too). */
export { ModelCardSchema, type ModelCard } from '../domain/model-card';
