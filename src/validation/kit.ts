/**
 * The ANS CI-SIS test kit the user points to (a checkout of ansforge/TestContenuCDA-3-0, or the
 * same layout): its CDA schema and its schematrons, each compiled or loaded once and reused.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SchematronEngine } from './schematron/engine.js';
import { loadSchematron } from './schematron/loader.js';
import { XsdSchema } from './xsd.js';

export class KitError extends Error {
  override readonly name = 'KitError';
}

const XSD = 'infrastructure/cda/CDA_extended.xsd';

export class AnsKit {
  readonly dir: string;
  private xsdSchema: XsdSchema | undefined;
  private readonly engines = new Map<string, SchematronEngine>();

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

  /** Volet names of the kit's CI-SIS_<volet>.sch files. */
  volets(): string[] {
    return readdirSync(join(this.dir, 'schematrons')).filter((f) => /^CI-SIS_.+\.sch$/.test(f)).map((f) => f.slice('CI-SIS_'.length, -'.sch'.length)).sort();
  }

  dispose(): void {
    this.xsdSchema?.dispose();
  }
}
