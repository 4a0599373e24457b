/** Splitting one CSV line into fields, with RFC-4180 quoting. */
import { ParseError } from "../types.js";

/**
 * The fields of one CSV line. A field that starts with `"` is quoted: it runs to the next lone
 * `"`, a doubled `""` inside stands for one quote, and the delimiter may appear inside. Quoted
 * fields must close on the same line (a rating file has no multi-line fields).
 */
export function splitCsvLine(text: string, delimiter: string, file: string, line: number): string[] {
  if (!text.includes('"')) return text.split(delimiter);
  const fields: string[] = [];
  let p = 0;
  for (;;) {
    if (text.charCodeAt(p) === 34) {
      let value = "";
      let q = p + 1;
      for (;;) {
        const close = text.indexOf('"', q);
        if (close < 0) {
          throw new ParseError(file, line, `quoted field ${fields.length + 1} is not closed on this line`, 'a quoted field ends with " before the next delimiter; a quote inside is written ""');
        }
        value += text.slice(q, close);
        if (text.charCodeAt(close + 1) === 34) {
          value += '"';
          q = close + 2;
          continue;
        }
        p = close + 1;
        break;
      }
      fields.push(value);
      if (p === text.length) return fields;
      if (!text.startsWith(delimiter, p)) {
        throw new ParseError(file, line, `unexpected ${JSON.stringify(text[p])} after the closing quote of field ${fields.length}`, `expected "${delimiter}" or the end of the line`);
      }
      p += delimiter.length;
    } else {
      const next = text.indexOf(delimiter, p);
      if (next < 0) {
        fields.push(text.slice(p));
        return fields;
      }
      fields.push(text.slice(p, next));
      p = next + delimiter.length;
    }
  }
}
