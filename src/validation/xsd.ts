/**
 * W3C XML Schema validation with libxml2 (compiled to WebAssembly, libxml2-wasm): the same engine
 * as `xmllint --schema`, so its verdict is xmllint's. A schema is compiled once and reused; only
 * files under the schema's own folder can be read while compiling it (includes and imports).
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ParseOption, XmlDocument, XmlElement, XmlParseError, XmlValidateError, XsdValidator, xmlRegisterInputProvider, type ErrorDetail } from 'libxml2-wasm';
import { fsInputProviders } from 'libxml2-wasm/lib/nodejs.mjs';
import type { ValidationIssue } from './issue.js';

const XMLDSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const HL7_NS = 'urn:hl7-org:v3';

/** No network, no external entities, no XInclude: the document is the only input. */
const PARSE_OPTIONS: ParseOption = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE;

const allowedRoots = new Set<string>();
let providerRegistered = false;

function pathOf(filename: string): string {
  return filename.startsWith('file:') ? fileURLToPath(filename) : resolve(filename);
}

/** libxml2 may read a file only if it lies under a folder holding a schema we compiled. */
function allowRoot(root: string): void {
  allowedRoots.add(realpathSync(root) + sep);
  if (providerRegistered) return;
  providerRegistered = true;
  xmlRegisterInputProvider({
    ...fsInputProviders,
    match: (filename) => {
      const path = pathOf(filename);
      if (!existsSync(path)) return false;
      const real = realpathSync(path);
      return [...allowedRoots].some((allowed) => real.startsWith(allowed));
    },
    open: (filename) => fsInputProviders.open(pathOf(filename)),
  });
}

export class XsdSchema {
  private constructor(private readonly validator: XsdValidator, readonly path: string) {}

  static load(path: string): XsdSchema {
    allowRoot(dirname(path));
    const schemaDocument = XmlDocument.fromBuffer(readFileSync(path), { url: path, option: PARSE_OPTIONS });
    try {
      return new XsdSchema(XsdValidator.fromDoc(schemaDocument), path);
    } finally {
      schemaDocument.dispose();
    }
  }

  /**
   * Every XSD error of the document, with its line; an empty list when it is valid. With
   * `element`, the first element of that name is validated as if it were the root (the body of a
   * SOAP envelope); a document without one is reported.
   */
  validate(bytes: Uint8Array, name: string, element?: { readonly namespace: string; readonly localName: string }): ValidationIssue[] {
    let document: XmlDocument;
    try {
      document = XmlDocument.fromBuffer(bytes, { url: name, option: PARSE_OPTIONS });
    } catch (error) {
      if (error instanceof XmlParseError) return error.details.map((d) => issue(d, 'XSD_NOT_WELL_FORMED'));
      throw error;
    }
    try {
      // A signed CDA (DC-GEN): ds:Signature is the root and the schema applies to the
      // ClinicalDocument it envelops. Re-rooting keeps the line numbers of the file.
      const enveloped = element === undefined
        ? document.get('/ds:Signature/ds:Object/cda:ClinicalDocument', { ds: XMLDSIG_NS, cda: HL7_NS })
        : document.get(`//x:${element.localName}`, { x: element.namespace });
      if (enveloped instanceof XmlElement) document.root = enveloped;
      else if (element !== undefined) return [{ source: 'xsd', severity: 'error', rule: 'XSD', message: `no ${element.localName} element in ${element.namespace}` }];
      this.validator.validate(document);
      return [];
    } catch (error) {
      if (error instanceof XmlValidateError) return error.details.map((d) => issue(d, 'XSD'));
      throw error;
    } finally {
      document.dispose();
    }
  }

  dispose(): void {
    this.validator.dispose();
  }
}

function issue(detail: ErrorDetail, rule: string): ValidationIssue {
  return {
    source: 'xsd',
    severity: detail.level === 1 ? 'warning' : 'error',
    rule,
    message: detail.message.trim(),
    ...(detail.line > 0 ? { line: detail.line } : {}),
    ...(detail.col > 0 ? { column: detail.col } : {}),
  };
}
