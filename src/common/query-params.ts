/** A query parameter given empty (`?status=`) counts as absent, as HTML forms and hand-built URLs send it. */
export const blankAsAbsent = ({ value }: { value: unknown }): unknown => (value === '' ? undefined : value);
