import { IsString, Length, Validate, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';
import { VerificationLinkDto } from '../verification/verification-link.dto';
import { ValidationFailedError } from './api-error';
import { StrictValidationPipe } from './validation.pipe';

let checks = 0;

@ValidatorConstraint({ name: 'counted' })
class Counted implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    checks += 1;
    return value !== 'forbidden';
  }
}

class NameDto {
  @IsString()
  @Length(1, 10)
  @Validate(Counted)
  name!: string;
}

const body = { type: 'body' as const, metatype: NameDto };

describe('StrictValidationPipe', () => {
  beforeEach(() => (checks = 0));

  it('validates a body once: the same JSON again gets the same frozen instance without validating', async () => {
    const pipe = new StrictValidationPipe();
    const first = await pipe.transform({ name: 'ada' }, body);
    const again = await pipe.transform({ name: 'ada' }, body);
    expect(first).toBeInstanceOf(NameDto);
    expect(again).toBe(first);
    expect(Object.isFrozen(again)).toBe(true);
    expect(checks).toBe(1);
    await pipe.transform({ name: 'grace' }, body);
    expect(checks).toBe(2);
  });

  it('never remembers an invalid body, and an unknown field is rejected although its valid sibling was seen', async () => {
    const pipe = new StrictValidationPipe();
    for (let i = 0; i < 2; i++) await expect(pipe.transform({ name: 'forbidden' }, body)).rejects.toBeInstanceOf(ValidationFailedError);
    expect(checks).toBe(2);
    await pipe.transform({ name: 'ada' }, body);
    await expect(pipe.transform({ name: 'ada', admin: true }, body)).rejects.toMatchObject({
      details: [{ field: 'admin', message: expect.stringContaining('should not exist') }],
    });
    await expect(pipe.transform({ name: 'much too long a name' }, body)).rejects.toBeInstanceOf(ValidationFailedError);
  });

  it('does not remember large bodies (the memory stays bounded by count times 2 KB)', async () => {
    const pipe = new StrictValidationPipe();
    class NoteDto {
      @IsString()
      @Validate(Counted)
      note!: string;
    }
    const note = { type: 'body' as const, metatype: NoteDto };
    const first = await pipe.transform({ note: 'x'.repeat(3000) }, note);
    const again = await pipe.transform({ note: 'x'.repeat(3000) }, note);
    expect(again).not.toBe(first);
    expect(checks).toBe(2);
  });

  it('rejects bodies that are not JSON objects', async () => {
    const pipe = new StrictValidationPipe();
    for (const value of [null, 'text', 42, [{ name: 'ada' }]]) {
      await expect(pipe.transform(value, body)).rejects.toMatchObject({ details: [{ message: 'The body must be a JSON object' }] });
    }
  });

  it('rejects NUL (U+0000, which PostgreSQL text cannot store) in any string field, naming the field', async () => {
    const pipe = new StrictValidationPipe();
    await expect(pipe.transform({ name: 'a\u0000b' }, body)).rejects.toMatchObject({
      details: [{ field: 'name', message: 'name must not contain the NUL character (U+0000)' }],
    });
    const link = { type: 'body' as const, metatype: VerificationLinkDto };
    const rejected = pipe.transform({ country: 'MX', redirectUri: 'myapp://done\u0000x' }, link);
    await expect(rejected).rejects.toBeInstanceOf(ValidationFailedError);
    await expect(rejected).rejects.toMatchObject({ details: expect.arrayContaining([expect.objectContaining({ field: 'redirectUri' })]) });
    await expect(pipe.transform({ country: 'M\u0000' }, link)).rejects.toMatchObject({
      details: expect.arrayContaining([expect.objectContaining({ field: 'country' })]),
    });
  });

  it('rejects a path parameter with NUL, naming it', async () => {
    const pipe = new StrictValidationPipe();
    await expect(pipe.transform('a\u0000b', { type: 'param', metatype: String, data: 'externalUserId' })).rejects.toMatchObject({
      details: [{ field: 'externalUserId', message: expect.stringContaining('NUL') }],
    });
  });

  it('leaves parameters that are not bodies to the plain pipe', async () => {
    const pipe = new StrictValidationPipe();
    expect(await pipe.transform('abc', { type: 'param', metatype: String, data: 'id' })).toBe('abc');
  });
});
