import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

// axe-core injected into a page: its violations, readable in a failed assertion.

const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Runs axe over the element matching `selector` (open shadow roots included), or the whole
 * document. Throws unless axe actually checked something for each of `mustCheck`'s rules, so an
 * empty or hidden page cannot pass by having nothing to look at.
 */
export async function axeViolations(
  page: Page,
  options: { selector?: string; mustCheck?: string[] } = {},
): Promise<Violation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE_PATH });
  return page.evaluate(
    async ({ selector, mustCheck }) => {
      type AxeResult = {
        passes: { id: string; nodes: unknown[] }[];
        violations: {
          id: string;
          impact: string | null;
          help: string;
          nodes: { target: unknown[]; failureSummary?: string }[];
        }[];
      };
      const axe = (window as unknown as { axe: { run(context: Node): Promise<AxeResult> } }).axe;
      const context = selector ? document.querySelector(selector) : document;
      if (!context) throw new Error(`nothing matches ${selector}`);
      const result = await axe.run(context);
      for (const rule of mustCheck) {
        if (!result.passes.find((p) => p.id === rule)?.nodes.length)
          throw new Error(`axe checked nothing for ${rule}`);
      }
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => `${JSON.stringify(n.target)}: ${n.failureSummary ?? ''}`),
      }));
    },
    { selector: options.selector ?? null, mustCheck: options.mustCheck ?? [] },
  );
}
