// Preloaded into a service process (NODE_OPTIONS=--require): at exit, prints which packages it loaded
// (loadedPackages: every package under node_modules; loadedOpenTelemetryPackages: the @opentelemetry ones) and whether
// it loaded the built-in Capa simulator (dist/sandbox/).
process.on('exit', () => {
  const packages = new Set();
  let sandbox = false;
  for (const path of Object.keys(require.cache)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
    if (match !== null) packages.add(match[1]);
    if (/\/dist\/sandbox\//.test(path)) sandbox = true;
  }
  const sorted = [...packages].sort();
  const loadedOpenTelemetryPackages = sorted.filter((name) => name.startsWith('@opentelemetry/'));
  process.stdout.write(`${JSON.stringify({ loadedOpenTelemetryPackages, loadedPackages: sorted, loadedSandbox: sandbox })}\n`);
});
