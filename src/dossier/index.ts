// Release dossier: evidence gathered by reference, rendered as one self-contained HTML page, exported to PDF.
export {
  collectDossier,
  type DossierData,
  type DossierInput,
  type EvidenceEntry,
  type AttestationEntry,
} from './collect';
export { DOSSIER_CSS, renderDossierHtml } from './render';
export { buildFdaModelCard, renderFdaModelCardHtml, renderFdaModelCardSection } from './fda-model-card';
export { ModelCardSchema, type ModelCard } from './model-card';
