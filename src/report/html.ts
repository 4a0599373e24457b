/**
 * The report page's HTML: one self-contained document (inline CSS and SVG, no scripts, no
 * external URLs) that reads the same in a browser, a mail client or a file viewer.
 */

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** A table cell: text, a number (thousands separators), or a number shown with fixed decimals. */
export type Cell = string | number | { value: number; digits: number };

/** Missing or non-finite numbers show as "–". */
export function formatCell(c: Cell): string {
  if (typeof c === "string") return c;
  const x = typeof c === "number" ? c : c.value;
  if (!Number.isFinite(x)) return "–";
  if (typeof c !== "number") return x.toFixed(c.digits);
  return Number.isInteger(x) ? x.toLocaleString("en-US") : x.toLocaleString("en-US", { maximumFractionDigits: 4 });
}

/** A data table; `id` names it for readers and tests (data-table attribute). */
export function htmlTable(id: string, headers: string[], rows: Cell[][]): string {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  const body = rows
    .map((r) => `<tr>${r.map((c) => `<td${typeof c !== "string" ? ' class="num"' : ""}>${escapeHtml(formatCell(c))}</td>`).join("")}</tr>`)
    .join("\n");
  return `<table class="data" data-table="${escapeHtml(id)}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Key figures as label/value rows; each row carries data-stat="<key>". */
export function summaryTable(rows: { key: string; label: string; value: Cell }[]): string {
  const body = rows
    .map((r) => `<tr data-stat="${escapeHtml(r.key)}"><th>${escapeHtml(r.label)}</th><td>${escapeHtml(formatCell(r.value))}</td></tr>`)
    .join("\n");
  return `<table class="summary"><tbody>\n${body}\n</tbody></table>`;
}

export interface Section {
  id: string;
  title: string;
  /** Trusted HTML (already escaped): figures, tables, paragraphs. */
  body: string;
}

/** A chart figure: an optional heading (when a section holds several charts), the inline SVG and its caption. */
export function figure(id: string, svg: string, caption: string, heading: string | null = null): string {
  const h = heading ? `<h3>${escapeHtml(heading)}</h3>\n` : "";
  return `<figure class="chart" id="${escapeHtml(id)}" data-chart="${escapeHtml(id)}">\n${h}${svg}\n<figcaption>${escapeHtml(caption)}</figcaption>\n</figure>`;
}

export function paragraph(text: string): string {
  return `<p>${escapeHtml(text)}</p>`;
}

const CSS = `
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; background: #fafafa; margin: 0; }
main { max-width: 760px; margin: 0 auto; padding: 24px 28px 48px; background: white; }
h1 { font-size: 24px; margin: 0 0 4px; }
h3 { font-size: 15px; margin: 20px 0 4px; }
h2 { font-size: 18px; margin: 36px 0 8px; padding-top: 16px; border-top: 1px solid #e4e4e4; }
.sub { color: #666; margin: 0 0 16px; }
nav ol { columns: 2; margin: 8px 0 0; padding-left: 20px; }
nav a { color: #2c5d8f; text-decoration: none; }
figure { margin: 8px 0 12px; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 13.5px; margin-top: 4px; }
table { border-collapse: collapse; font-size: 13.5px; margin: 8px 0; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.summary th { font-weight: 500; color: #555; }
table.summary td { font-variant-numeric: tabular-nums; }
.big { font-size: 28px; font-weight: 600; margin: 4px 0; }
.note { color: #8a5a00; }
`;

/** The whole page. */
export function page(title: string, subtitle: string, intro: string, sections: Section[]): string {
  const nav = sections.map((s) => `<li><a href="#${escapeHtml(s.id)}">${escapeHtml(s.title)}</a></li>`).join("");
  const body = sections.map((s) => `<section id="${escapeHtml(s.id)}">\n<h2>${escapeHtml(s.title)}</h2>\n${s.body}\n</section>`).join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p class="sub">${escapeHtml(subtitle)}</p>
${intro}
<nav><ol>${nav}</ol></nav>
${body}
</main>
</body>
</html>
`;
}
