import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from '../../admin/src/pages/analytics/csv.ts';

// The history export: RFC 4180 quoting, and no cell a spreadsheet would run as a formula.

describe('CSV export', () => {
  it('defuses cells that start like a formula, whatever follows', () => {
    for (const text of ['=1+1', '+31 6 1234', '-2+3', '@SUM(A1)', '\t=cmd', '\r=cmd']) {
      const cell = csvCell(text);
      expect(cell.replace(/^"/, '').startsWith("'"), JSON.stringify(text)).toBe(true);
    }
    expect(csvCell('=HYPERLINK("https://evil.example","x")')).toBe(
      `"'=HYPERLINK(""https://evil.example"",""x"")"`,
    );
  });

  it('leaves ordinary text and numbers as they are, negative numbers included', () => {
    expect(csvCell('hello world')).toBe('hello world');
    expect(csvCell('a = b')).toBe('a = b');
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(4.5)).toBe('4.5');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell('שלום')).toBe('שלום');
  });

  it('quotes commas, quotes and line breaks', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
  });

  it('writes a header and one CRLF line per row', () => {
    const rows = [
      { id: 1, text: '-rm -rf' },
      { id: 2, text: 'fine, thanks' },
    ];
    expect(
      toCsv(
        [
          { header: 'id', value: (r: (typeof rows)[number]) => r.id },
          { header: 'text', value: (r: (typeof rows)[number]) => r.text },
        ],
        rows,
      ),
    ).toBe(`id,text\r\n1,'-rm -rf\r\n2,"fine, thanks"\r\n`);
  });
});
