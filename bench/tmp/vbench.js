require('reflect-metadata');
const { StrictValidationPipe } = require('/work/main/dist/common/validation.pipe.js');
const { CreateSignupDto } = require('/work/main/dist/signups/create-signup.dto.js');
const { normaliseSignup } = require('/work/main/dist/signups/signup-request.js');
const cv = require('class-validator'); const ct = require('class-transformer');
const pipe = new StrictValidationPipe();
const meta = { type: 'body', metatype: CreateSignupDto };
const body = (i) => ({ externalUserId: 'bench-seed-' + i, method: 'EMAIL', identifier: `bench-seed-${i}@bench.example`, userType: 'INDIVIDUAL', alias: 'Bench ' + i });
async function run(name, fn, n = 50000) {
  for (let i = 0; i < 5000; i++) await fn(i);
  const t = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  console.log(name, ((performance.now() - t) * 1000 / n).toFixed(1), 'µs');
}
(async () => {
  await run('pipe.transform', (i) => pipe.transform(body(i), meta));
  await run('plainToInstance', (i) => ct.plainToInstance(CreateSignupDto, body(i)));
  const opts = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true, validationError: { target: false, value: false } };
  await run('validate async', (i) => cv.validate(ct.plainToInstance(CreateSignupDto, body(i)), opts));
  await run('validateSync', (i) => cv.validateSync(ct.plainToInstance(CreateSignupDto, body(i)), opts));
  await run('isEmail', (i) => cv.isEmail(`bench-seed-${i}@bench.example`));
  await run('normalise', (i) => normaliseSignup(body(i)));
  await run('stringify', (i) => JSON.stringify(body(i)));
})();
