const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a string is a UUID as PostgreSQL's uuid type reads it; anything else would fail the cast. */
export function isUuid(s: string): boolean {
  return UUID.test(s);
}
