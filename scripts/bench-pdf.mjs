// The PDF the benchmarks put in their act reports: a real PDF header and trailer around
// `bytes` of incompressible filler, as base64 (ActReport.report.pdf).
export function pdfOfSize(bytes) {
  const head = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Length ' + String(bytes) + ' >>\nstream\n', 'latin1');
  const filler = Buffer.alloc(Math.max(0, bytes - head.length - 40));
  for (let i = 0; i < filler.length; i++) filler[i] = (i * 2654435761) >>> 24;
  return Buffer.concat([head, filler, Buffer.from('\nendstream\nendobj\ntrailer\n<<>>\n%%EOF\n', 'latin1')]).toString('base64');
}
