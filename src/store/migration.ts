/** One step of a backend's schema history; versions only ever grow and applied steps never change. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}
