/**
 * Document-type data (cda-templates/*.json): the templateIds, codes, sections and entries of each
 * CI-SIS volet the builders write. Read and checked once at start-up, so that a broken file stops
 * the gateway with every problem listed instead of producing documents the DMP refuses.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { NGAP_CODE_SYSTEM } from '../domain/act.js';
import { PasserelleError, type Violation } from '../domain/errors.js';
import type { Code, II } from './model.js';

export const CDA_TEMPLATES_DIR = fileURLToPath(new URL('../../cda-templates/', import.meta.url));
const SCHEMA_URL = new URL('../../schemas/json/cda-template.schema.json', import.meta.url);

export const DOCUMENT_TYPES = ['tlm-cr', 'tlm-da'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

interface TemplateCommon {
  readonly name: string;
  readonly volet: string;
  readonly source: string;
  readonly templateIds: readonly II[];
  readonly code: Code;
  readonly serviceEventCodeSystem: string;
  readonly serviceEventCodes: readonly string[];
  readonly consentCode: Code;
  readonly valueSets: Readonly<Record<string, string>>;
}

export interface SectionTemplate {
  readonly templateIds: readonly II[];
  readonly code: Code;
  readonly title: string;
  readonly required: boolean;
}

export interface TlmCrTemplate extends TemplateCommon {
  readonly type: 'tlm-cr';
  readonly level: 1;
  readonly bodyMediaTypes: readonly ('application/pdf' | 'text/plain')[];
}

/** The sections and entries the TLM-DA builder writes, by the keys it uses. */
const TLM_DA_SECTIONS = ['anamnesisAndRiskFactors', 'anamnesis', 'treatments'] as const;
const TLM_DA_ENTRIES = ['treatment', 'product'] as const;

export interface TlmDaTemplate extends TemplateCommon {
  readonly type: 'tlm-da';
  readonly level: 3;
  readonly sections: Readonly<Record<(typeof TLM_DA_SECTIONS)[number], SectionTemplate>>;
  readonly entries: Readonly<Record<(typeof TLM_DA_ENTRIES)[number], { readonly templateIds: readonly II[] }>>;
}

export interface CdaTemplates {
  readonly 'tlm-cr': TlmCrTemplate;
  readonly 'tlm-da': TlmDaTemplate;
}

const EXPECTED_LEVEL: Record<DocumentType, 1 | 3> = { 'tlm-cr': 1, 'tlm-da': 3 };

/** Reads every *.json of the folder; throws `config-invalid` listing every problem found. */
export function loadCdaTemplates(dir: string = CDA_TEMPLATES_DIR): CdaTemplates {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
  const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as object);
  const problems: Violation[] = [];
  const found = new Map<DocumentType, TlmCrTemplate | TlmDaTemplate>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch (error) {
      problems.push({ pointer: `${file}#`, rule: 'TEMPLATE_NOT_JSON', message: (error as Error).message });
      continue;
    }
    if (!validate(data)) {
      problems.push(...(validate.errors ?? []).map((e) => schemaProblem(file, e)));
      continue;
    }
    const template = data as TlmCrTemplate | TlmDaTemplate;
    problems.push(...semanticProblems(file, template));
    if (found.has(template.type)) problems.push({ pointer: `${file}#/type`, rule: 'TEMPLATE_DUPLICATE', message: `a second file describes ${template.type}` });
    found.set(template.type, template);
  }
  for (const type of DOCUMENT_TYPES) {
    if (!found.has(type)) problems.push({ pointer: `${type}.json#`, rule: 'TEMPLATE_MISSING', message: `no file in ${dir} describes the document type ${type}` });
  }
  if (problems.length > 0) throw new PasserelleError('config-invalid', `the CDA document types in ${dir} are not valid`, { violations: problems });
  return Object.fromEntries(found) as unknown as CdaTemplates;
}

function semanticProblems(file: string, template: TlmCrTemplate | TlmDaTemplate): Violation[] {
  const out: Violation[] = [];
  if (template.level !== EXPECTED_LEVEL[template.type]) {
    out.push({ pointer: `${file}#/level`, rule: 'TEMPLATE_LEVEL', message: `${template.type} is a level-${String(EXPECTED_LEVEL[template.type])} document` });
  }
  if (template.serviceEventCodeSystem !== NGAP_CODE_SYSTEM) {
    out.push({ pointer: `${file}#/serviceEventCodeSystem`, rule: 'TEMPLATE_ACT_CODE_SYSTEM', message: `telemedicine acts are coded in the NGAP (${NGAP_CODE_SYSTEM})` });
  }
  if (template.type === 'tlm-da') {
    for (const key of TLM_DA_SECTIONS) {
      if (!(key in template.sections)) out.push({ pointer: `${file}#/sections`, rule: 'TEMPLATE_SECTION_MISSING', message: `the builder needs the section "${key}"` });
    }
    for (const key of TLM_DA_ENTRIES) {
      if (!(key in template.entries)) out.push({ pointer: `${file}#/entries`, rule: 'TEMPLATE_ENTRY_MISSING', message: `the builder needs the entry "${key}"` });
    }
  }
  return out;
}

function schemaProblem(file: string, error: ErrorObject): Violation {
  return { pointer: `${file}#${error.instancePath}`, rule: `SCHEMA_${error.keyword.toUpperCase()}`, message: error.message ?? 'is not valid' };
}
