import { Document, HeadingLevel, Packer, Paragraph } from 'docx';
import { PDFDocument, StandardFonts } from 'pdf-lib';

// Real PDF and Word files built on the spot, so the extraction tests and the ingestion benchmark
// read what people upload, without binary fixtures in the repository.

/** A PDF with one page per entry, each page its lines of text from the top. */
export async function makePdf(pages: readonly (readonly string[])[]): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = pdf.addPage([595, 842]);
    lines.forEach((line, i) => {
      page.drawText(line, { x: 50, y: 780 - i * 18, font, size: 12 });
    });
  }
  return pdf.save();
}

/** A .docx of headings (lines starting "# " or "## "), bullets ("- ") and paragraphs. */
export async function makeDocx(lines: readonly string[]): Promise<Uint8Array> {
  const children = lines.map((line) => {
    if (line.startsWith('- ')) return new Paragraph({ text: line.slice(2), bullet: { level: 0 } });
    if (line.startsWith('## '))
      return new Paragraph({ text: line.slice(3), heading: HeadingLevel.HEADING_2 });
    if (line.startsWith('# '))
      return new Paragraph({ text: line.slice(2), heading: HeadingLevel.HEADING_1 });
    return new Paragraph(line);
  });
  const document = new Document({ sections: [{ children }] });
  return new Uint8Array(await Packer.toArrayBuffer(document));
}
