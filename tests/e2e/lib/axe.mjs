// axe-core (npm, web/node_modules) for the browser tests: WCAG 2.0 / 2.1 A and AA rules; a
// violation of impact "serious" or "critical" fails, lesser ones are printed.
//
// NOTE: axe is injected with page.evaluate of its source, not page.addScriptTag: the page's CSP
// (`script-src 'self'`) blocks the inline <script> addScriptTag makes, whereas an evaluation
// through the DevTools protocol is not subject to it. So pages are checked under their real
// CSP (no bypassCSP).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../../web/package.json', import.meta.url));
const kAxeSource = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
const kRules = { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } };
const kFailingImpacts = new Set(['serious', 'critical']);

/**
 * Runs axe on `page` (the whole document, or the element `selector` names); the serious and
 * critical violations, each as readable lines naming `view`.
 */
export async function axeViolations(page, view, selector = null) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(kAxeSource);
  const violations = await page.evaluate(
    async ({ options, selector }) => {
      const scope = selector ? document.querySelector(selector) : document;
      const result = await window.axe.run(scope, options);
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.map(
          (n) => `${n.target.join(' ')}${n.failureSummary ? ` — ${n.failureSummary.replace(/\s+/g, ' ')}` : ''}`,
        ),
      }));
    },
    { options: kRules, selector },
  );
  const describe = (v) => `[${view}] ${v.id} (${v.impact}): ${v.help}\n    ${v.targets.join('\n    ')}`;
  const minor = violations.filter((v) => !kFailingImpacts.has(v.impact));
  if (minor.length) console.log(`axe, not failing:\n${minor.map(describe).join('\n')}`);
  return violations.filter((v) => kFailingImpacts.has(v.impact)).map(describe);
}
