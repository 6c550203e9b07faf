// Headless Debian chromium driven by playwright-core (resolved from web/node_modules, where
// `npm ci` puts it), plus page watchers shared by the browser tests.
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { kArtifacts, kRepoRoot } from './ruche_server.mjs';

const require = createRequire(new URL('../../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');

export const kChromium = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

/** `extraArgs`: more chromium switches, e.g. kMediaArgs for the meeting tests. */
export function launchBrowser({ extraArgs = [] } = {}) {
  return chromium.launch({
    executablePath: kChromium,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // /dev/shm is 64 MiB in many containers (CI's included, perhaps): past it, chromium's
      // renderers crash ("Aw, Snap") and every wait times out. Temp files do not run out.
      '--disable-dev-shm-usage',
      ...extraArgs,
    ],
  });
}

/**
 * Chromium switches for WebRTC tests: a synthetic camera (a moving pattern) and microphone (a
 * beep) granted without a prompt, ICE candidates on 127.0.0.1 (where the test server's SFU
 * listens), and remote audio allowed to play without a click.
 */
export const kMediaArgs = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
];

/**
 * A browser context whose pages report CSP violations to the console, where watchPage sees them
 * (chromium also logs "Refused to …" for most, but not all, violations).
 */
export async function newContext(browser, options) {
  const context = await browser.newContext(options);
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const blocked = event.blockedURI || 'inline';
      console.error(`CSP violation: ${event.violatedDirective} blocked ${blocked}`);
    });
  });
  return context;
}

// chromium's console line for a fetch answered with an HTTP error status.
const kApiHttpErrorRe = /^Failed to load resource: the server responded with a status of 4\d\d/;
// The Matrix /sync long-poll (v3 or r0).
const kSyncPathRe = /^\/_matrix\/client\/(v3|r0)\/sync$/;

/**
 * Collects console errors, uncaught exceptions and failed requests of `page`, except those
 * matching one of `allow` (regexes tried on the message). An HTTP error answer of the Matrix
 * or Ruche API (401, 403, 404, 429) is the app's business, not a page error: chromium logs
 * "Failed to load resource" for those, so they are always allowed; so is a cancelled /sync
 * long-poll (reload, sign-out).
 */
export function watchPage(page, { allow = [] } = {}) {
  const problems = [];
  const report = (text) => {
    if (!allow.some((re) => re.test(text))) problems.push(text);
  };
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const url = message.location()?.url ?? '';
    const path = new URL(url, 'http://x').pathname;
    const apiError =
      kApiHttpErrorRe.test(message.text()) &&
      (path.startsWith('/_matrix/') || path.startsWith('/_ruche/'));
    if (!apiError) report(`console error: ${message.text()} (${url})`);
  });
  page.on('pageerror', (error) => report(`uncaught exception: ${error.message}`));
  page.on('crash', () => report('the page crashed'));
  page.on('requestfailed', (request) => {
    const errorText = request.failure()?.errorText;
    // The chat holds a /sync long-poll open at all times: a reload, a sign-out or the end of the
    // page cancels it, which is not a page problem either.
    const path = new URL(request.url()).pathname;
    if (errorText === 'net::ERR_ABORTED' && kSyncPathRe.test(path)) return;
    report(`request failed: ${request.url()} ${errorText}`);
  });
  return problems;
}

/** Saves a full-page screenshot as $RUCHE_ARTIFACTS/e2e/NAME. */
/** A screenshot for docs/screenshots (what the README shows): the page as a user sees it. */
export async function docsScreenshot(page, name) {
  await page.screenshot({ path: join(kRepoRoot, 'docs', 'screenshots', name) });
}

export async function screenshot(page, name) {
  const dir = join(kArtifacts, 'e2e');
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, name), fullPage: true });
}

/** Texts on the page that look like untranslated i18n keys ("login.submit"). */
export async function visibleRawKeys(page) {
  return page.evaluate(() => {
    const keyRe = /^[a-z]+(\.[a-z_]+)+$/;
    const found = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent.trim();
      if (text && keyRe.test(text) && node.parentElement?.checkVisibility()) found.push(text);
    }
    for (const el of document.querySelectorAll('[aria-label],[title],[placeholder]')) {
      for (const attr of ['aria-label', 'title', 'placeholder']) {
        const value = el.getAttribute(attr)?.trim();
        if (value && keyRe.test(value)) found.push(`${attr}=${value}`);
      }
    }
    if (keyRe.test(document.title)) found.push(`title=${document.title}`);
    return found;
  });
}

/** `promise`, or `fallback` when it has not settled within `ms` (a crashed page never answers). */
function within(promise, ms, fallback) {
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  return Promise.race([promise.catch((error) => `(${error.message.split('\n')[0]})`), late]).finally(
    () => clearTimeout(timer),
  );
}

/**
 * Prints what each page shows when a test failed — its URL, heading, the names of its buttons
 * and the problems its watcher collected — and saves a screenshot of each as
 * fail-<test>-<name>.png. CI keeps only the output, so this is what tells a failure there.
 * `pages`: {name: {page, problems}}. Bounded in time: a crashed page never answers.
 */
export async function reportFailure(testName, pages) {
  const slug = testName.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 60);
  for (const [name, { page, problems = [] }] of Object.entries(pages)) {
    if (!page) continue;
    const seen = await within(
      page.evaluate(() => ({
        heading: document.querySelector('h1')?.textContent ?? '',
        buttons: [...document.querySelectorAll('button, [role=button]')]
          .map((b) => b.getAttribute('aria-label') || b.textContent.trim())
          .filter(Boolean)
          .slice(0, 40),
        dialogs: [...document.querySelectorAll('[role=dialog]')].map((d) => d.getAttribute('aria-label')),
      })),
      5_000,
      '(the page did not answer within 5 s)',
    );
    console.log(`[${testName}] ${name} at ${page.url()}: ${JSON.stringify(seen)}`);
    if (problems.length) console.log(`[${testName}] ${name} problems: ${JSON.stringify(problems)}`);
    await within(screenshot(page, `fail-${slug}-${name}.png`), 10_000, null);
  }
}
