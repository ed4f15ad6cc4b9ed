// Optional AES-256-GCM payload codec for workflow payloads, and the codec server routes the Temporal UI calls.
export {
  AesGcmPayloadCodec,
  PayloadCodecError,
  parsePayloadKey,
  payloadDataConverter,
  payloadKeyId,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
} from './aes-gcm-codec';
export { createCodecRoutes, type CodecRoutesOptions } from './routes';
