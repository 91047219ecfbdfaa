// Analysis checks: the round runner the controller calls, the providers behind it, the built-in
// PromQL templates and how thresholds read in status.
export type { AnalysisRound, AnalysisRunner, CheckMetrics, CheckOutcome, CheckProvider, Measurement, PlanRef, RoundContext, SecretReader } from './types';
export { createAnalysisRunner } from './runner';
export { createPrometheusProvider, parseQueryResponse, CredentialUnavailable } from './prometheus';
export { createWebhookProvider, type WebhookPayload } from './webhook';
export { renderTemplate, TEMPLATE_DOCS, RATE_WINDOW, TemplateNotApplicable, type TemplateDoc, type TemplateName } from './templates';
export { thresholdText, judge } from './thresholds';
export { checkTimeoutMs, DEFAULT_CHECK_TIMEOUT_MS, CheckTimedOut, RoundAborted } from './http';
