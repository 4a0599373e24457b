/**
 * vega-lite spec → SVG string, in Node: compiled by vega-lite, rendered by a headless vega View
 * (renderer "none", no canvas, no DOM). The SVG is static: no scripts, no external references.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** The report's look: one font stack, quiet axes, the same width for every single-panel chart. */
export const CHART_CONFIG = {
  font: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  background: "white",
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 500, gridColor: "#e8e8e8", domainColor: "#888", tickColor: "#888" },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: "top" },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 13, fontWeight: 600, anchor: "start" },
} as const;

/**
 * Renders one vega-lite spec to an SVG document string. vega-lite's and vega's warnings (e.g. a
 * field missing from the data) go to `warn` instead of the console.
 */
export async function renderSvg(spec: TopLevelSpec, warn: (message: string) => void = () => {}): Promise<string> {
  const logger = vega.logger(vega.Warn, undefined, (_method, level, args) => warn(`${level} ${args.map(String).join(" ")}`));
  const compiled = compile({ ...spec, config: { ...CHART_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none", logger });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
