/**
 * Renders the report content as a readable A4 PDF with pdf-lib, for reports that arrive without
 * one. Helvetica (a standard PDF font, so nothing to embed) covers French text through WinAnsi;
 * a character it cannot encode is replaced by "?" rather than failing the document. Metadata dates
 * come from the build clock, so the same input and clock give the same bytes.
 */
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import type { ReportContent } from './report-content.js';

const PAGE = { width: 595.28, height: 841.89 } as const;
const MARGIN = 56;
const BODY_SIZE = 10;
const LINE = 14;
const FOOTER_SIZE = 8;

export async function renderPdf(content: ReportContent, options: { readonly producedAt: Date; readonly producer: string }): Promise<Uint8Array> {
  const pdf = await PDFDocument.create({ updateMetadata: false });
  pdf.setTitle(content.title);
  pdf.setLanguage('fr-FR');
  pdf.setProducer(options.producer);
  pdf.setCreator(options.producer);
  pdf.setCreationDate(options.producedAt);
  pdf.setModificationDate(options.producedAt);
  const regular = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  const writer = new PageWriter(pdf, regular, bold);

  writer.paragraph(content.title, bold, 15, 20);
  writer.space(6);
  for (const block of content.blocks) {
    writer.space(8);
    writer.paragraph(block.heading, bold, 11.5, 16);
    for (const line of block.lines) writer.paragraph(line, regular, BODY_SIZE, LINE);
  }
  writer.footers(content.title);
  return pdf.save({ useObjectStreams: true });
}

class PageWriter {
  private page: PDFPage;
  private y = 0;
  private readonly encodable: Map<PDFFont, Set<number>> = new Map();

  constructor(private readonly pdf: PDFDocument, private readonly regular: PDFFont, private readonly bold: PDFFont) {
    this.page = this.newPage();
  }

  space(points: number): void {
    this.y -= points;
  }

  /** Writes a paragraph, wrapped to the text width, breaking pages as needed; an empty one is a blank line. */
  paragraph(text: string, font: PDFFont, size: number, lineHeight: number): void {
    const width = PAGE.width - 2 * MARGIN;
    for (const line of wrap(this.encodableText(text, font), font, size, width)) {
      if (this.y - lineHeight < MARGIN + FOOTER_SIZE * 2) this.page = this.newPage();
      this.y -= lineHeight;
      if (line !== '') this.page.drawText(line, { x: MARGIN, y: this.y, size, font, color: rgb(0, 0, 0) });
    }
  }

  /** "page n / N" and the title at the foot of every page, once the page count is known. */
  footers(title: string): void {
    const pages = this.pdf.getPages();
    const shortTitle = this.encodableText(title.length > 80 ? `${title.slice(0, 77)}...` : title, this.regular);
    pages.forEach((page, i) => {
      const label = `page ${String(i + 1)} / ${String(pages.length)}`;
      page.drawText(shortTitle, { x: MARGIN, y: MARGIN - 20, size: FOOTER_SIZE, font: this.regular, color: rgb(0.35, 0.35, 0.35) });
      page.drawText(label, { x: PAGE.width - MARGIN - this.regular.widthOfTextAtSize(label, FOOTER_SIZE), y: MARGIN - 20, size: FOOTER_SIZE, font: this.regular, color: rgb(0.35, 0.35, 0.35) });
    });
  }

  private newPage(): PDFPage {
    const page = this.pdf.addPage([PAGE.width, PAGE.height]);
    this.y = PAGE.height - MARGIN;
    return page;
  }

  /** The text with tabs as spaces and every character the font cannot encode replaced by "?". */
  private encodableText(text: string, font: PDFFont): string {
    let set = this.encodable.get(font);
    if (set === undefined) {
      set = new Set(font.getCharacterSet());
      this.encodable.set(font, set);
    }
    const known = set;
    let out = '';
    for (const char of text.normalize('NFC').replace(/\t/g, '    ')) out += known.has(char.codePointAt(0) ?? 0) ? char : '?';
    return out;
  }
}

/**
 * Greedy word wrap in linear time (a 200 000-character line without a space must not cost more
 * than a normal one): widths are summed per character, and a word longer than the line is cut.
 */
function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  if (text.trim() === '') return [''];
  const charWidths = new Map<string, number>();
  const widthOf = (char: string): number => {
    let w = charWidths.get(char);
    if (w === undefined) {
      w = font.widthOfTextAtSize(char, size);
      charWidths.set(char, w);
    }
    return w;
  };
  const space = widthOf(' ');
  const lines: string[] = [];
  let current = '';
  let currentWidth = 0;
  for (const word of text.split(/ +/)) {
    let wordWidth = 0;
    for (const char of word) wordWidth += widthOf(char);
    if (current !== '' && currentWidth + space + wordWidth <= width) {
      current += ` ${word}`;
      currentWidth += space + wordWidth;
      continue;
    }
    if (current !== '') lines.push(current);
    current = '';
    currentWidth = 0;
    for (const char of word) {
      const w = widthOf(char);
      if (currentWidth + w > width && current !== '') {
        lines.push(current);
        current = '';
        currentWidth = 0;
      }
      current += char;
      currentWidth += w;
    }
  }
  lines.push(current);
  return lines;
}
