#!/usr/bin/env node
/**
 * Checks the shipped alert rules: `node scripts/check-alert-rules.js [--skip-promtool] [dir]`
 * (dir: deploy/kubernetes/monitoring).
 *
 * promtool reads plain rule files, not PrometheusRule manifests. So each PrometheusRule's `spec` is written to a
 * temporary rule file, the unit-test files next to the manifests (YAML with `rule_files` and `tests`, whose
 * `rule_files` name the manifests) are copied with those names pointing at the extracted files, and then
 * `promtool check rules` and `promtool test rules` run on them. Before that, without promtool: every alert must have
 * a unit test where it fires and one where it does not. The queries of the Grafana dashboards in deploy/grafana go
 * through `promtool check rules` as well (as recording rules), so a query that does not parse fails here too.
 *
 * Exit 0: all good; 1: a check failed; 2: promtool is not installed (Debian: `apt-get install prometheus`;
 * PROMTOOL=/path/to/promtool to use another one).
 */
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { basename, join, resolve } = require('node:path');
const { parseAllDocuments, stringify } = require('yaml');

const args = process.argv.slice(2);
const skipPromtool = args.includes('--skip-promtool');
const dir = resolve(args.find((arg) => !arg.startsWith('--')) ?? join(__dirname, '..', 'deploy', 'kubernetes', 'monitoring'));
const promtool = process.env.PROMTOOL || 'promtool';

function fail(message) {
  console.error(`check-alert-rules: ${message}`);
  process.exit(1);
}

const yamlFiles = readdirSync(dir).filter((file) => /\.ya?ml$/.test(file)).sort();
/** PrometheusRule manifests by file name. */
const manifests = new Map();
/** promtool unit-test files by file name. */
const testFiles = new Map();
for (const file of yamlFiles) {
  const text = readFileSync(join(dir, file), 'utf8');
  const documents = parseAllDocuments(text);
  for (const document of documents) {
    if (document.errors.length > 0) fail(`${file}: ${document.errors.map((error) => error.message).join('; ')}`);
  }
  const values = documents.map((document) => document.toJS()).filter((value) => value !== null && typeof value === 'object');
  const rules = values.filter((value) => value.kind === 'PrometheusRule');
  if (rules.length > 1) fail(`${file}: one PrometheusRule per file, please (found ${rules.length})`);
  if (rules.length === 1) {
    if (rules[0].apiVersion !== 'monitoring.coreos.com/v1') fail(`${file}: apiVersion must be monitoring.coreos.com/v1`);
    manifests.set(file, rules[0].spec);
  } else if (values.length === 1 && Array.isArray(values[0].rule_files) && Array.isArray(values[0].tests)) {
    testFiles.set(file, values[0]);
  }
}
if (manifests.size === 0) fail(`no PrometheusRule manifest in ${dir}`);
if (testFiles.size === 0) fail(`no promtool unit-test file (rule_files + tests) in ${dir}`);

// Every alert: a test case where it fires and one where it does not.
const alerts = [...manifests.values()].flatMap((spec) => spec.groups.flatMap((group) => group.rules.filter((rule) => rule.alert).map((rule) => rule.alert)));
const cases = [...testFiles.values()].flatMap((test) => test.tests.flatMap((group) => group.alert_rule_test ?? []));
const missing = [];
for (const alert of new Set(alerts)) {
  const own = cases.filter((testCase) => testCase.alertname === alert);
  if (!own.some((testCase) => (testCase.exp_alerts ?? []).length > 0)) missing.push(`${alert}: no alert_rule_test where it fires`);
  if (!own.some((testCase) => (testCase.exp_alerts ?? []).length === 0)) missing.push(`${alert}: no alert_rule_test where it does not fire`);
}
for (const testCase of cases) {
  if (!alerts.includes(testCase.alertname)) missing.push(`alert_rule_test for ${testCase.alertname}, which no rule defines`);
}
if (missing.length > 0) fail(`unit tests missing:\n  ${missing.join('\n  ')}`);
console.log(`check-alert-rules: ${alerts.length} alerts, each with a firing and a not-firing unit test`);
if (skipPromtool) process.exit(0);

const version = spawnSync(promtool, ['--version'], { encoding: 'utf8' });
if (version.error) {
  console.error(`check-alert-rules: ${promtool} not found (${version.error.code}): install Debian's prometheus package or set PROMTOOL`);
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'alert-rules-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
/** Manifest file name -> the extracted plain rule file. */
const extracted = new Map();
for (const [file, spec] of manifests) {
  const path = join(work, file.replace(/\.ya?ml$/, '.rules.yaml'));
  writeFileSync(path, stringify(spec));
  extracted.set(file, path);
}
const tests = [];
for (const [file, test] of testFiles) {
  const ruleFiles = test.rule_files.map((name) => {
    const path = extracted.get(basename(name));
    if (path === undefined) fail(`${file}: rule_files names ${name}, which is not a PrometheusRule manifest in ${dir}`);
    return path;
  });
  const path = join(work, file);
  writeFileSync(path, stringify({ ...test, rule_files: ruleFiles }));
  tests.push(path);
}
// The Grafana dashboards' queries, as recording rules, so promtool parses them too (Grafana's variables replaced by
// values of their kind: intervals by 5m, the others only ever appear inside regex matchers).
const dashboardDir = join(__dirname, '..', 'deploy', 'grafana');
const dashboards = existsSync(dashboardDir) ? readdirSync(dashboardDir).filter((file) => file.endsWith('.json')).sort() : [];
for (const file of dashboards) {
  const board = JSON.parse(readFileSync(join(dashboardDir, file), 'utf8'));
  const panels = board.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
  const rules = panels.flatMap((panel) =>
    (panel.targets ?? []).map((target, index) => ({
      record: `dashboard:panel_${panel.id}:${String.fromCharCode(97 + index)}`,
      expr: target.expr.replace(/\$__(?:rate_interval|interval|range)\b/g, '5m').replace(/\$\{[^}]*\}|\$\w+/g, '.*'),
    })),
  );
  const path = join(work, file.replace(/\.json$/, '.dashboard-queries.yaml'));
  writeFileSync(path, stringify({ groups: [{ name: `dashboard ${file}`, rules }] }));
  extracted.set(`deploy/grafana/${file}`, path);
}

for (const command of [['check', 'rules', ...extracted.values()], ['test', 'rules', ...tests]]) {
  console.log(`$ promtool ${command.slice(0, 2).join(' ')} (${command.length - 2} file(s))`);
  const run = spawnSync(promtool, command, { cwd: work, encoding: 'utf8' });
  process.stdout.write(run.stdout);
  process.stderr.write(run.stderr);
  if (run.status !== 0) fail(`promtool ${command.slice(0, 2).join(' ')} failed (exit ${run.status})`);
}
