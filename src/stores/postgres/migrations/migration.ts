/** One schema version. `sql` gets the quoted schema name; versions are append-only and never edited once released. */
export interface Migration {
  version: number;
  name: string;
  sql: (schema: string) => string;
}
