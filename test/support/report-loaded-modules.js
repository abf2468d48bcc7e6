// Preloaded into a service process (NODE_OPTIONS=--require): at exit, prints which OpenTelemetry packages it loaded.
process.on('exit', () => {
  const packages = new Set();
  for (const path of Object.keys(require.cache)) {
    const match = /node_modules\/(@opentelemetry\/[^/]+)\//.exec(path);
    if (match !== null) packages.add(match[1]);
  }
  process.stdout.write(`${JSON.stringify({ loadedOpenTelemetryPackages: [...packages].sort() })}\n`);
});
