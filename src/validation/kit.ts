/**
 * The ANS CI-SIS test kit the user points to (a checkout of ansforge/TestContenuCDA-3-0, or the
 * same layout): its CDA schema and its schematrons, each compiled or loaded once and reused.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import fontoxpath from 'fontoxpath';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SchematronEngine } from './schematron/engine.js';
import { loadSchematron } from './schematron/loader.js';
import type { ValueSets } from './builtin/header-rules.js';
import { parseXml } from './xml-parse.js';
import { XsdSchema } from './xsd.js';

export class KitError extends Error {
  override readonly name = 'KitError';
}

const XSD = 'infrastructure/cda/CDA_extended.xsd';
/** JDV_J07-XdsTypeCode-CISIS (1.2.250.1.213.1.1.5.471), the document types, as an IHE SVS file. */
const JDV_J07 = 'jeuxDeValeurs/JDV_J07_XdsTypeCode_CISIS.xml';

export class AnsKit {
  readonly dir: string;
  private xsdSchema: XsdSchema | undefined;
  private readonly engines = new Map<string, SchematronEngine>();
  private sets: ValueSets | undefined;

  constructor(dir: string) {
    this.dir = resolve(dir);
    const missing = [XSD, 'schematrons'].filter((p) => !existsSync(join(this.dir, p)));
    if (missing.length > 0) throw new KitError(`${this.dir} is not an ANS CI-SIS kit: ${missing.join(' and ')} not found (point --kit to a checkout of ansforge/TestContenuCDA-3-0)`);
  }

  xsd(): XsdSchema {
    this.xsdSchema ??= XsdSchema.load(join(this.dir, XSD));
    return this.xsdSchema;
  }

  /** A schematron by its path relative to the kit's schematrons/ folder. */
  schematron(relative: string): SchematronEngine {
    let engine = this.engines.get(relative);
    if (engine === undefined) {
      const path = join(this.dir, 'schematrons', relative);
      if (!existsSync(path)) throw new KitError(`no schematron ${relative} in ${this.dir}/schematrons (volets available: ${this.volets().join(', ')})`);
      engine = new SchematronEngine(loadSchematron(pathToFileURL(path)));
      this.engines.set(relative, engine);
    }
    return engine;
  }

  /** The value sets the built-in rules check against, read from the kit's jeuxDeValeurs/. */
  valueSets(): ValueSets {
    if (this.sets === undefined) {
      const path = join(this.dir, JDV_J07);
      const codes = existsSync(path) ? fontoxpath.evaluateXPathToStrings('//Q{urn:ihe:iti:svs:2008}Concept/@code', parseXml(readFileSync(path, 'utf8'), path)) : undefined;
      this.sets = codes === undefined ? {} : { documentTypes: new Set(codes) };
    }
    return this.sets;
  }

  /** Volet names of the kit's CI-SIS_<volet>.sch files. */
  volets(): string[] {
    return readdirSync(join(this.dir, 'schematrons')).filter((f) => /^CI-SIS_.+\.sch$/.test(f)).map((f) => f.slice('CI-SIS_'.length, -'.sch'.length)).sort();
  }

  dispose(): void {
    this.xsdSchema?.dispose();
  }
}
