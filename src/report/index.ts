export {
  DEFAULT_MAX_POINTS,
  modelCurves,
  precisionRecallCurve,
  rocCurve,
  trapezoidArea,
  type ModelCurves,
  type PrCurve,
  type RocCurve,
} from './curves';
export { renderEvaluationReportHtml, type EvaluationReportHtmlInput } from './evaluation-html';
export { escapeXml, formatNumber, renderLinePlot, type LinePlotOptions, type PlotSeries } from './svg';
export { renderDrillReportHtml } from './drill-html';
