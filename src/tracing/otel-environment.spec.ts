import { applyServiceDefaults, tracingRequested } from './otel-environment';

describe('tracingRequested', () => {
  it.each([
    [{}, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: ' TRUE ' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'false' }, true],
    // Other OTEL_* variables alone never start it (the SDK's default endpoint is not tried).
    [{ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, false],
  ])('%j -> %s', (env, expected) => {
    expect(tracingRequested(env)).toBe(expected);
  });
});

describe('applyServiceDefaults', () => {
  it('sets the service name, stable semconv and traces-only defaults where unset', () => {
    const env: NodeJS.ProcessEnv = {};
    applyServiceDefaults(env);
    expect(env).toEqual({
      OTEL_SEMCONV_STABILITY_OPT_IN: 'http,database',
      OTEL_SERVICE_NAME: 'capa-onboarding',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
    });
  });

  it("keeps the operator's choices", () => {
    const env: NodeJS.ProcessEnv = {
      OTEL_SEMCONV_STABILITY_OPT_IN: 'http/dup,messaging',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=onboarding-eu',
      OTEL_LOGS_EXPORTER: 'otlp',
    };
    applyServiceDefaults(env);
    expect(env.OTEL_SEMCONV_STABILITY_OPT_IN).toBe('http/dup,messaging,database');
    expect(env.OTEL_SERVICE_NAME).toBeUndefined();
    expect(env.OTEL_LOGS_EXPORTER).toBe('otlp');
  });
});
