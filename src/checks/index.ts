// Analysis checks: the round runner the controller calls, the providers behind it, the built-in
// PromQL templates, how thresholds read in status, and the rules every outbound call of the
// controller follows (allowed hosts, credentials over http, bounded answers, redaction).
export type { AnalysisRound, AnalysisRunner, CheckMetrics, CheckOutcome, CheckProvider, Measurement, PlanRef, RoundContext, SecretReader } from './types';
export { createAnalysisRunner } from './runner';
export { createPrometheusProvider, parseQueryResponse, queryUrl, CredentialUnavailable } from './prometheus';
export { createWebhookProvider, callWebhook, type WebhookPayload, type WebhookCall } from './webhook';
export { createHookRunner, HOOK_API_VERSION, type HookPayload, type HookRunner } from './hooks';
export { renderTemplate, TEMPLATE_DOCS, RATE_WINDOW, TemplateNotApplicable, type TemplateDoc, type TemplateName } from './templates';
export { thresholdText, judge } from './thresholds';
export { checkTimeout, checkTimeoutMs, DEFAULT_CHECK_TIMEOUT_MS, CheckTimedOut, RoundAborted, readBody, BodyTooLarge, MAX_BODY_BYTES, describeFetchFailure, excerpt, messageOf } from './http';
export { AllowedHosts, InvalidAllowedHost, ALLOWED_HOSTS_FLAG, isInClusterHost, refuseDestination, ALLOW_ALL_HOSTS, type OutboundPolicy } from './outbound';
export { redactUrl, secretUrlPlaceholder, REDACTED, type SecretUrl } from './redact';
