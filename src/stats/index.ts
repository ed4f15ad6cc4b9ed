export { rocAuc } from './auc';
export { armStats } from './operating-point';
