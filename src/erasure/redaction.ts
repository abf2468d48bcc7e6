/** What an erased value is replaced with, wherever a text or JSON value quoted it. */
export const ERASED = '[erased]';

/**
 * What an erasure removes from stored texts: the values the user submitted (`values`, matched in any letter case, also
 * as JSON text and a URL would spell them) and what is kept (`keep`: the externalUserId and Capa's userId, never
 * erased even where a pattern would match them).
 */
export interface ErasedValues {
  values: readonly string[];
  keep: readonly string[];
}

interface Submitted {
  externalUserId: string;
  userId: string | null;
  method: string;
  identifier: string | null;
  alias: string | null;
}

/** The values to erase for a signup as stored: its identifier and alias in the spellings texts may hold them in. */
export function erasedValuesOf(signup: Submitted): ErasedValues {
  const submitted = [signup.identifier, signup.alias].filter((value): value is string => value !== null && value !== '');
  if (signup.method === 'PHONE_NUMBER' && signup.identifier !== null) submitted.push(signup.identifier.replace(/^\+/, ''));
  const spellings = submitted.flatMap((value) => [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]);
  return {
    values: [...new Set(spellings)].filter((value) => value.length > 0),
    keep: [signup.externalUserId, signup.userId].filter((value): value is string => value !== null && value !== ''),
  };
}

/** A quoted value ("…", “…”, or '…' not inside a word such as Capa's), an e-mail address, or an international phone number. */
const QUOTED = String.raw`"[^"\n]*"|“[^”\n]*”|(?<![\p{L}\p{N}])'[^'\n]+'(?![\p{L}\p{N}])`;
const EMAIL = String.raw`[^\s"'<>()[\]{},;:@]+@[^\s"'<>()[\]{},;:@]+\.[^\s"'<>()[\]{},;:@.]{2,}`;
const PHONE = String.raw`\+\d[\d ().-]{5,}\d`;

const escape = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Longest first, so a value that contains another is replaced whole. */
const alternatives = (values: readonly string[]) => [...values].sort((a, b) => b.length - a.length).map(escape);

/**
 * A free text (an error message Capa or an endpoint answered, a row error) with every submitted value, every quoted value,
 * e-mail address and phone number replaced by [erased]: a value submitted earlier under the same id (a conflicting or a
 * replaced payload) is no longer known by then, so what looks like one goes too. Kept values stay as they are.
 */
export function redactText(text: string, erased: ErasedValues): string {
  // The known values first: a pattern matching from an earlier position (a quote) would cut one in two.
  return replaceAll(redactValues(text, erased), erased, [QUOTED, EMAIL, PHONE]);
}

/** A text that is not about this user (a run's last error): only the submitted values themselves are replaced. */
export function redactValues(text: string, erased: ErasedValues): string {
  return erased.values.length === 0 ? text : replaceAll(text, erased, alternatives(erased.values));
}

/** A JSON value with redactText applied to every string in it, keys included. */
export function redactJson(value: unknown, erased: ErasedValues): unknown {
  if (typeof value === 'string') return redactText(value, erased);
  if (Array.isArray(value)) return value.map((item) => redactJson(item, erased));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [redactText(key, erased), redactJson(item, erased)]));
  }
  return value;
}

/** A stored body: as JSON when it parses (re-serialised, only when something was erased), else as free text. */
export function redactBody(body: string, erased: ErasedValues): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return redactText(body, erased);
  }
  const redacted = JSON.stringify(redactJson(parsed, erased));
  return redacted === JSON.stringify(parsed) ? body : redacted;
}

function replaceAll(text: string, erased: ErasedValues, patterns: readonly string[]): string {
  // Kept values come first: at any position they win over a pattern that would match them or a part of them.
  const pattern = new RegExp([...alternatives(erased.keep), ...patterns].join('|'), 'giu');
  const kept = new Set(erased.keep.map((value) => value.toLowerCase()));
  return text.replace(pattern, (match) => {
    if (kept.has(match.toLowerCase())) return match;
    const quote = /^["“']/u.exec(match)?.[0];
    if (quote === undefined) return ERASED;
    const inner = match.slice(1, -1);
    return inner === ERASED || kept.has(inner.toLowerCase()) ? match : `${quote}${ERASED}${match.at(-1)}`;
  });
}
