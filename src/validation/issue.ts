/** One finding of any validation stage, in the one format the CLI, the API and the gateway share. */

export type IssueSource = 'input' | 'xsd' | 'schematron' | 'builtin';
export type Severity = 'error' | 'warning' | 'info';

export interface ValidationIssue {
  readonly source: IssueSource;
  readonly severity: Severity;
  /** Stable rule id: a built-in rule's id, an assert's (or its rule's/pattern's) id, an XSD/input code. */
  readonly rule?: string;
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
  /** XPath of the node concerned. */
  readonly location?: string;
  /** For schematron issues: the schematron file, relative to the kit's schematrons/ folder. */
  readonly schematron?: string;
  /** How to fix it, when known. */
  readonly hint?: string;
}
