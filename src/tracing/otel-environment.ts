/**
 * Whether the OTEL_* environment asks for traces: an OTLP endpoint is set (general or traces-only) and the SDK is not
 * disabled. Without an endpoint nothing starts: the SDK's own default (localhost:4318) is never tried.
 */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return isSet(env.OTEL_EXPORTER_OTLP_ENDPOINT) || isSet(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * The OTEL_* defaults this service chooses where the variable is unset: stable HTTP and database attribute names, its
 * service name, and traces only (its metrics are Prometheus on /metrics, its logs JSON lines on stdout).
 */
export function applyServiceDefaults(env: NodeJS.ProcessEnv): void {
  const optIn = (env.OTEL_SEMCONV_STABILITY_OPT_IN ?? '').split(',').map((word) => word.trim()).filter((word) => word !== '');
  for (const wanted of ['http', 'database']) {
    if (!optIn.some((word) => word === wanted || word === `${wanted}/dup`)) optIn.push(wanted);
  }
  env.OTEL_SEMCONV_STABILITY_OPT_IN = optIn.join(',');
  const namedInAttributes = /(^|,)\s*service\.name\s*=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? '');
  if (!isSet(env.OTEL_SERVICE_NAME) && !namedInAttributes) env.OTEL_SERVICE_NAME = 'capa-onboarding';
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '';
}
