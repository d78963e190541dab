// Escaping for text and attribute values in the HTML and SVG the reports and the ops page write
// (HTML Living Standard §13.1.2.6: these five characters are enough inside quoted attributes and text).

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
