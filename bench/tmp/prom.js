const { Counter, Histogram, Registry } = require('prom-client');
const r = new Registry();
const c = new Counter({ name: 'a', help: 'a', labelNames: ['method', 'route', 'status'], registers: [r] });
const h = new Histogram({ name: 'b', help: 'b', labelNames: ['method', 'route', 'status'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [r] });
const pino = require('pino')({}, require('fs').createWriteStream('/dev/null'));
function bench(name, fn, n = 500000) { for (let i = 0; i < 50000; i++) fn(i); const t = performance.now(); for (let i = 0; i < n; i++) fn(i); console.log(name, ((performance.now() - t) * 1000 / n).toFixed(2), 'µs'); }
bench('counter+histogram', (i) => { const l = { method: 'POST', route: '/v1/users', status: String(200 + (i & 1)) }; c.inc(l); h.observe(l, 0.003); });
bench('pino line', (i) => pino.info({ req: { id: 'abc-' + i, method: 'POST', url: '/v1/users' }, res: { statusCode: 200 }, responseTime: 3 }, 'request completed'));
bench('Function toString x2', () => Function.prototype.toString.call(Object) === Function.prototype.toString.call(Object));
