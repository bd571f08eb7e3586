/** The CLI's report formats: text lines, JSON, JUnit XML (CI test reports) and SARIF 2.1.0 (code scanning). */
import type { ValidationIssue } from './issue.js';
import type { DocumentReport } from './validate-document.js';

export const FORMATS = ['text', 'json', 'junit', 'sarif'] as const;
export type Format = (typeof FORMATS)[number];

export function formatReports(reports: readonly DocumentReport[], format: Format): string {
  switch (format) {
    case 'text':
      return reports.map(text).join('');
    case 'json':
      return `${JSON.stringify({ files: reports.map((r) => ({ file: r.file, valid: r.valid, ...(r.volet === undefined ? {} : { volet: r.volet }), issues: r.issues.map(jsonIssue) })) }, null, 2)}\n`;
    case 'junit':
      return junit(reports);
    case 'sarif':
      return `${JSON.stringify(sarif(reports), null, 2)}\n`;
  }
}

function text(report: DocumentReport): string {
  const lines = report.issues.map((i) => `${report.file}:${i.line ?? 0}:${i.column ?? 0} ${i.severity} ${i.source}${i.schematron === undefined ? '' : `(${i.schematron})`} ${i.rule ?? '-'} ${i.message}\n`);
  return `${lines.join('')}${report.file}: ${report.valid ? 'valid' : 'INVALID'}${report.volet === undefined ? '' : ` (volet ${report.volet})`}\n`;
}

function jsonIssue(i: ValidationIssue): Record<string, unknown> {
  return {
    source: i.source,
    ...(i.schematron === undefined ? {} : { schematron: i.schematron }),
    ...(i.rule === undefined ? {} : { rule: i.rule }),
    severity: i.severity,
    message: i.message,
    ...(i.line === undefined ? {} : { line: i.line }),
    ...(i.column === undefined ? {} : { column: i.column }),
    ...(i.location === undefined ? {} : { location: i.location }),
    ...(i.hint === undefined ? {} : { hint: i.hint }),
  };
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function junit(reports: readonly DocumentReport[]): string {
  const failures = reports.filter((r) => !r.valid).length;
  const cases = reports.map((r) => {
    const errors = r.issues.filter((i) => i.severity === 'error');
    const body = r.valid ? '' : `\n    <failure message="${errors.length} error(s)">${xmlEscape(errors.map((i) => `${i.line ?? 0}:${i.column ?? 0} ${i.source} ${i.rule ?? '-'} ${i.message}`).join('\n'))}</failure>\n  `;
    return `  <testcase classname="passerelle.validate" name="${xmlEscape(r.file)}">${body}</testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="passerelle validate" tests="${reports.length}" failures="${failures}">\n${cases.join('\n')}\n</testsuite>\n`;
}

function sarif(reports: readonly DocumentReport[]): Record<string, unknown> {
  const level = (s: ValidationIssue['severity']): string => (s === 'error' ? 'error' : s === 'warning' ? 'warning' : 'note');
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'passerelle validate', informationUri: 'https://interop.esante.gouv.fr/' } },
      results: reports.flatMap((r) => r.issues.map((i) => ({
        ruleId: i.rule ?? i.source,
        level: level(i.severity),
        message: { text: i.message },
        locations: [{ physicalLocation: { artifactLocation: { uri: r.file }, ...(i.line === undefined ? {} : { region: { startLine: i.line, ...(i.column === undefined || i.column === 0 ? {} : { startColumn: i.column }) } }) } }],
      }))),
    }],
  };
}
