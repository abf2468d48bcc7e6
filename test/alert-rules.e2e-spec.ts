/**
 * The alerting shipped in deploy/: the PrometheusRule passes promtool (check + its unit tests, through
 * scripts/check-alert-rules.js), every alert carries what an on-call engineer needs and points at a runbook section
 * that exists, and every metric a rule or the Grafana dashboard names is really on /metrics of a running instance.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { SignupRepository } from '../src/signups/signup.repository';
import { request, useTestApp } from './support/test-app';

const ROOT = join(__dirname, '..');
const MONITORING_DIR = join(ROOT, 'deploy', 'kubernetes', 'monitoring');
const SCRIPT = join(ROOT, 'scripts', 'check-alert-rules.js');
const DASHBOARD_FILE = join(ROOT, 'deploy', 'grafana', 'capa-onboarding.json');

const hasPromtool = spawnSync(process.env.PROMTOOL || 'promtool', ['--version']).error === undefined;
// CI installs Debian's prometheus package and sets REQUIRE_PROMTOOL=1: there a missing promtool is a failure.
if (!hasPromtool && process.env.REQUIRE_PROMTOOL === '1') throw new Error('promtool is required (REQUIRE_PROMTOOL=1): apt-get install prometheus');
if (!hasPromtool) console.warn('Skipping promtool check/test of the alert rules: promtool is not installed (Debian: apt-get install prometheus; .ci/run installs it).');
const itWithPromtool = hasPromtool ? it : it.skip;

type Obj = Record<string, any>;
interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules: Rule[] = readdirSync(MONITORING_DIR)
  .filter((file) => /\.ya?ml$/.test(file))
  .flatMap((file) => parseAllDocuments(readFileSync(join(MONITORING_DIR, file), 'utf8')).map((document) => document.toJS() as Obj))
  .filter((doc) => doc?.kind === 'PrometheusRule')
  .flatMap((doc) => (doc.spec.groups as Obj[]).flatMap((group) => group.rules as Rule[]));
const alerts = rules.filter((rule) => rule.alert !== undefined);
const recorded = new Set(rules.flatMap((rule) => (rule.record === undefined ? [] : [rule.record])));
const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Obj;

const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects: identifiers left once strings, label matchers, ranges, label lists
 * (by/without/on/ignoring/group_*) and Grafana variables are removed, that are neither a function call nor a keyword.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ');
  const names = new Set<string>();
  for (const [, name, call] of bare.matchAll(/(?<![\w:.])([a-zA-Z_:][\w:]*)\s*(\()?/g)) {
    if (call === undefined && !PROMQL_KEYWORDS.has(name.toLowerCase())) names.add(name);
  }
  return [...names].sort();
}

/** Every PromQL query of the dashboard: panel targets (rows' nested panels too) and query variables. */
function dashboardQueries(board: Obj): Array<{ where: string; expr: string }> {
  const panels = (board.panels as Obj[]).flatMap((panel) => [panel, ...((panel.panels as Obj[] | undefined) ?? [])]);
  const targets = panels.flatMap((panel) => ((panel.targets as Obj[] | undefined) ?? []).map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr as string })));
  const variables = (board.templating.list as Obj[])
    .filter((variable) => variable.type === 'query')
    .map((variable) => {
      const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
      // label_values(metric, label): only the metric is a metric.
      const labelValues = /^label_values\((.*),\s*\w+\)$/.exec(query);
      return { where: `variable $${variable.name}`, expr: labelValues === null ? query : labelValues[1] };
    });
  return [...targets, ...variables];
}

/** GitHub's heading anchors: lower case, punctuation dropped, each space a hyphen. */
function anchors(markdown: string): Set<string> {
  const headings = markdown.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm);
  return new Set([...headings].map(([, text]) => text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')));
}

describe('alert rules, runbook and dashboard in deploy/', () => {
  const service = useTestApp();

  beforeAll(async () => {
    // Before the first scrape (the gauge keeps a read for 10 s): a live signup PENDING for 20 minutes (not due, so
    // the worker leaves it alone), and an import row PENDING for 5 hours, which the gauge leaves out.
    await service.query(`INSERT INTO imports (id, status) VALUES ('00000000-0000-4000-8000-000000000023', 'RUNNING')`);
    await service.query(
      `INSERT INTO signups (external_user_id, status, method, fingerprint, created_at, updated_at, next_attempt_at, import_id)
       VALUES ('alerts-live', 'PENDING', 'NONE', 'f', now() - interval '20 minutes', now(), now() + interval '1 hour', NULL),
              ('alerts-import-row', 'PENDING', 'NONE', 'f', now() - interval '5 hours', now(), now() + interval '1 hour', '00000000-0000-4000-8000-000000000023')`,
    );
  });

  it('reports the age of the oldest PENDING signup, by the database clock, in signup_oldest_pending_age_seconds', async () => {
    const metrics = await request(service.url, 'GET', '/metrics', undefined, {});
    const age = /^signup_oldest_pending_age_seconds (\S+)$/m.exec(metrics.body as string);
    expect(age).not.toBeNull();
    expect(Number(age![1])).toBeGreaterThanOrEqual(20 * 60);
    expect(Number(age![1])).toBeLessThan(25 * 60);
    // 0 when none (read through the repository: /metrics keeps its read for 10 s).
    await service.query(`UPDATE signups SET status = 'CREATED', capa_user_id = 'u-alerts-live' WHERE external_user_id = 'alerts-live'`);
    expect(await service.app.get(SignupRepository).oldestPendingAgeSeconds()).toBe(0);
  });

  it('finds metric names in PromQL the way the checks below rely on', () => {
    expect(metricNames('sum by (le, route) (rate(a_bucket{route=~"/v1/.+",x="b{c}"}[5m])) / on (ns) group_left () b offset 5m')).toEqual(['a_bucket', 'b']);
    expect(metricNames('max(c{namespace=~"$namespace"}) > bool 1e3 unless d:recorded:ratio_rate5m[$__rate_interval] or vector(0)')).toEqual(['c', 'd:recorded:ratio_rate5m']);
  });

  itWithPromtool('promtool accepts the rules and passes their unit tests (scripts/check-alert-rules.js)', () => {
    // (promtool evaluates 3 days of samples: a few seconds here, more on a busy machine.)
    const run = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8' });
    expect(run.status === 0 ? 'passed' : `exit ${run.status}\n${run.stdout}${run.stderr}`).toBe('passed');
  }, 180_000);

  it('every alert has a unit test where it fires and one where it does not', () => {
    const run = spawnSync(process.execPath, [SCRIPT, '--skip-promtool'], { encoding: 'utf8' });
    expect(run.status === 0 ? 'passed' : `exit ${run.status}\n${run.stdout}${run.stderr}`).toBe('passed');
  });

  it('every alert has a severity, a summary, a description and a runbook_url whose section exists', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(8);
    for (const alert of alerts) {
      const { severity } = alert.labels ?? {};
      const { summary, description, runbook_url: runbookUrl } = alert.annotations ?? {};
      expect({ alert: alert.alert, severity, summary: typeof summary, description: typeof description }).toEqual({
        alert: alert.alert,
        severity: expect.stringMatching(/^(critical|warning)$/),
        summary: 'string',
        description: 'string',
      });
      expect({ alert: alert.alert, summary: summary.trim().length > 0, description: description.trim().length > 0 }).toEqual({ alert: alert.alert, summary: true, description: true });
      // A repo file and a section of it, as a path or a https://…/blob/<ref>/ URL.
      const link = /^(?:https:\/\/[^#]+\/blob\/[^/]+\/)?([^#:]+)#(.+)$/.exec(runbookUrl ?? '');
      expect({ alert: alert.alert, runbookUrl, link: link !== null }).toEqual({ alert: alert.alert, runbookUrl, link: true });
      const [, file, section] = link!;
      expect({ alert: alert.alert, file, section, exists: anchors(readFileSync(join(ROOT, file), 'utf8')).has(section) }).toEqual({ alert: alert.alert, file, section, exists: true });
    }
    // One section per alert: no two alerts share one.
    expect(new Set(alerts.map((alert) => alert.annotations!.runbook_url)).size).toBe(alerts.length);
  });

  it('the SLO alerts are the multi-window burn rates of POST /v1/users (99.9%: 14.4x and 6x page, 1x tickets)', () => {
    const severities = Object.fromEntries(alerts.map((alert) => [alert.alert, alert.labels!.severity]));
    expect(severities).toMatchObject({ SignupErrorBudgetBurnFast: 'critical', SignupErrorBudgetBurnSlow: 'warning' });
    const fast = alerts.find((alert) => alert.alert === 'SignupErrorBudgetBurnFast')!.expr;
    for (const window of ['1h', '5m']) expect(fast).toContain(`ratio_rate${window} > (14.4 * 0.001)`);
    for (const window of ['6h', '30m']) expect(fast).toContain(`ratio_rate${window} > (6 * 0.001)`);
    const slow = alerts.find((alert) => alert.alert === 'SignupErrorBudgetBurnSlow')!.expr;
    for (const window of ['3d', '6h']) expect(slow).toContain(`ratio_rate${window} > 0.001`);
    for (const rule of rules.filter((rule) => rule.record !== undefined)) {
      expect(rule.expr).toContain('http_requests_total{method="POST",route="/v1/users",status=~"5.."}');
    }
  });

  it('the dashboard imports as is: a Prometheus datasource variable that every panel and query uses', () => {
    const variables = dashboard.templating.list as Obj[];
    const datasource = variables.find((variable) => variable.type === 'datasource');
    expect(datasource).toMatchObject({ query: 'prometheus' });
    expect(JSON.stringify(dashboard)).not.toMatch(/\$\{DS_|__inputs/);
    const uses = `\${${datasource!.name}}`;
    const panels = (dashboard.panels as Obj[]).filter((panel) => panel.type !== 'row');
    expect(panels.length).toBeGreaterThan(10);
    for (const variable of variables.filter((variable) => variable.type === 'query')) {
      expect({ variable: variable.name, datasource: variable.datasource?.uid }).toEqual({ variable: variable.name, datasource: uses });
    }
    for (const panel of panels) {
      expect({ panel: panel.title, datasource: panel.datasource?.uid, targets: panel.targets.length > 0 }).toEqual({ panel: panel.title, datasource: uses, targets: true });
      for (const target of panel.targets as Obj[]) expect({ panel: panel.title, datasource: target.datasource?.uid }).toEqual({ panel: panel.title, datasource: uses });
    }
    expect(new Set((dashboard.panels as Obj[]).map((panel) => panel.id)).size).toBe((dashboard.panels as Obj[]).length);
  });

  it('every metric a rule or the dashboard names is exported on /metrics (recording rules excepted)', async () => {
    const metrics = await request(service.url, 'GET', '/metrics', undefined, {});
    const text = metrics.body as string;
    // Declared families (a labelled metric with no sample yet still has its TYPE line) and sample names.
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => [name, type]));
    const samples = new Set([...text.matchAll(/^([a-zA-Z_:][\w:]*)[{ ]/gm)].map(([, name]) => name));
    const exported = (name: string) => {
      if (types.has(name) || samples.has(name)) return true;
      const family = /^(.+)_(bucket|sum|count)$/.exec(name);
      return family !== null && ['histogram', 'summary'].includes(types.get(family[1]) ?? '');
    };
    const queries = [
      ...rules.map((rule) => ({ where: `rule ${rule.alert ?? rule.record}`, expr: rule.expr })),
      ...dashboardQueries(dashboard),
    ];
    const missing: string[] = [];
    for (const { where, expr } of queries) {
      const names = metricNames(expr);
      if (names.length === 0) missing.push(`${where}: names no metric`);
      for (const name of names) {
        const known = name.includes(':') ? recorded.has(name) : exported(name);
        if (!known) missing.push(`${where}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
    // The contract's names, the new gauge included.
    for (const name of ['http_requests_total', 'signups', 'signup_oldest_pending_age_seconds', 'capa_circuit_state', 'capa_webhook_signature_failures_total', 'event_delivery_lag_seconds', 'import_rows', 'import_capa_calls_total']) {
      expect({ name, exported: exported(name) }).toEqual({ name, exported: true });
    }
  });
});
