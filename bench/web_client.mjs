// The web client's weight and start-up time, page by page: the login page, the chat workspace,
// the calendar (opened from the workspace), a meeting's pre-join page and a public booking page,
// each loaded in Chromium against a started `ruche serve` that serves the built client.
//
// Sizes: every file of the client a page loads (JS, CSS, the HTML page, other assets), summed
// per type — raw, gzip -9 and brotli q11 computed here from the files in the web root, and what
// actually crossed the wire (the server sends the precomputed .br/.gz siblings that
// `npm run build` writes; without them, the files as they are). Also which chunks each page
// loads, and whether the chat loads any meeting, calendar or booking code (it must not).
//
// Times: RUNS (10) cold loads of each page (a new browser context each time: empty cache, no
// service worker), CPU throttling off, on loopback; medians of navigation start → first paint,
// first contentful paint, DOMContentLoaded, load, and "ready": the first frame where the page
// can be used (login: the Sign in button; chat: the conversation list after the first /sync,
// then "composer": the message box of a room clicked at once; calendar: from the click on
// Calendar to its week view; meeting: the Join button; booking: its free days).
//
//   node bench/web_client.mjs      (env: RUCHE_BIN, RUCHE_WEB_ROOT = web/dist, RUNS = 10)
// Builds nothing: run `make web` (or `cd web && npm run build`) first.
// Peer: Element Web is not published on npm as a built app (only its source on GitHub), so it
// is not measured side by side here; see docs/benchmarks.md.
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { kMediaArgs, launchBrowser, newContext } from '../tests/e2e/lib/browser.mjs';
import { kRelaxedLimits, kWebRoot, serverApi, startServer } from '../tests/e2e/lib/ruche_server.mjs';

const kRuns = Number(process.env.RUNS ?? 10);
const kUser = 'bench';
const kPassword = 'correct horse 1';
const kRoom = 'bench-room';
const kBookingTitle = 'Bench call';
const kTimeoutMs = 30_000;
// Chunks that belong to other parts of the app than the chat (by Vite's chunk names).
const kForeignToChat = /^(meeting|calendar|booking_page|booking_manage|slot_picker)-/;

const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const kib = (bytes) => (bytes / 1024).toFixed(1);
const ms = (value) => (Number.isFinite(value) ? value.toFixed(0) : '—');

/** Raw, gzip -9 and brotli q11 sizes of a file of the web root, computed once. */
const compressed = new Map();
async function sizesOf(path) {
  if (!compressed.has(path)) {
    // Every page that is not a file of the root is index.html (the app's routes).
    const file = path.startsWith('/assets/') || path.includes('.') ? path : 'index.html';
    const data = await readFile(join(kWebRoot, file));
    compressed.set(path, {
      raw: data.length,
      gzip: gzipSync(data, { level: 9 }).length,
      brotli: brotliCompressSync(data, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
        },
      }).length,
    });
  }
  return compressed.get(path);
}

/** The kind of a file of the client by its path; null for API calls and other origins. */
function kindOf(url, origin) {
  const parsed = new URL(url);
  if (parsed.origin !== origin) return null;
  const path = parsed.pathname;
  if (path.startsWith('/_matrix/') || path.startsWith('/_ruche/') || path.startsWith('/_dav')) {
    return null;
  }
  if (path.endsWith('.js')) return 'js';
  if (path.endsWith('.css')) return 'css';
  if (path.startsWith('/assets/')) return 'other';
  return 'html'; // the page itself (index.html for every route)
}

/**
 * Loads `url` in a new context, waits for `ready` (a function of the page returning the time it
 * became usable), then `after` (more steps, returning extra marks); returns the client files
 * fetched and the marks.
 */
async function load(browser, origin, url, { session = null, ready, readyArg, after = null }) {
  const context = await newContext(browser, { locale: 'en-US', viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['camera', 'microphone'], { origin });
  context.setDefaultTimeout(kTimeoutMs);
  if (session) {
    await context.addInitScript((value) => {
      localStorage.setItem('ruche.session', value);
    }, JSON.stringify(session));
  }
  const page = await context.newPage();
  const files = [];
  page.on('requestfinished', async (request) => {
    const kind = kindOf(request.url(), origin);
    if (!kind) return;
    const path = new URL(request.url()).pathname;
    const sizes = await request.sizes().catch(() => null);
    files.push({ path, kind, wire: sizes ? sizes.responseBodySize : NaN });
  });
  try {
    await page.goto(url, { waitUntil: 'commit' });
    const handle = await page.waitForFunction(ready, readyArg, { polling: 'raf' });
    const readyAt = await handle.jsonValue();
    const extra = after ? await after(page, readyAt) : {};
    await page.waitForLoadState('load');
    const marks = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const paint = Object.fromEntries(
        performance.getEntriesByType('paint').map((entry) => [entry.name, entry.startTime]),
      );
      return {
        firstPaint: paint['first-paint'],
        firstContentfulPaint: paint['first-contentful-paint'],
        domContentLoaded: nav.domContentLoadedEventEnd,
        load: nav.loadEventEnd,
      };
    });
    // Let late responses (the sizes above are read asynchronously) be counted.
    await page.waitForTimeout(300);
    return { files, marks: { ...marks, ready: readyAt, ...extra } };
  } finally {
    await context.close();
  }
}

// What "usable" means on each page, evaluated in the page at every frame.
const loginReady = () => {
  const button = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Sign in');
  return button && !button.disabled && document.querySelector('input') ? performance.now() : false;
};
const chatReady = (room) => {
  const nav = document.querySelector('nav[aria-label="Conversations"]');
  const found = nav && [...nav.querySelectorAll('button')].some((b) => b.textContent.includes(room));
  return found ? performance.now() : false;
};
const joinReady = () => {
  const button = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Join meeting');
  return button && !button.disabled ? performance.now() : false;
};
const bookingReady = (title) => {
  const heading = document.querySelector('h1');
  const days = [...document.querySelectorAll('button[aria-label]')].filter((b) =>
    /\d+ free times?$/.test(b.getAttribute('aria-label')),
  );
  return heading?.textContent.includes(title) && days.length > 0 ? performance.now() : false;
};

async function openRoom(page) {
  await page.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name: new RegExp(`^${kRoom}`) }).click();
  const handle = await page.waitForFunction(
    () => {
      const box = document.getElementById('room-composer');
      return box && !box.hasAttribute('disabled') && box.getAttribute('aria-disabled') !== 'true'
        ? performance.now()
        : false;
    },
    undefined,
    { polling: 'raf' },
  );
  return { composer: await handle.jsonValue() };
}

async function openCalendar(page) {
  const clickedAt = await page.evaluate(() => performance.now());
  await page.getByRole('navigation', { name: 'Teams' }).getByRole('button', { name: 'Calendar', exact: true }).click();
  const handle = await page.waitForFunction(
    () => {
      const today = [...document.querySelectorAll('button')].some((b) => b.textContent.trim() === 'Today');
      return today && document.querySelector('nav[aria-label="Calendar sections"]') ? performance.now() : false;
    },
    undefined,
    { polling: 'raf' },
  );
  return { calendar: (await handle.jsonValue()) - clickedAt };
}

async function machine(browser) {
  const cpus = os.cpus();
  const release = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const distro = /PRETTY_NAME="([^"]+)"/.exec(release)?.[1] ?? os.type();
  return (
    `${cpus.length} × ${cpus[0]?.model ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
    `${distro}, kernel ${os.release()}, Chromium ${browser.version()} headless, node ${process.version}`
  );
}

const server = await startServer({ users: { [kUser]: kPassword }, settings: kRelaxedLimits });
const browser = await launchBrowser({ extraArgs: kMediaArgs });
try {
  const origin = server.url;
  const login = await serverApi(server, 'POST', '/_matrix/client/v3/login', {
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: kUser }, password: kPassword },
  });
  const token = login.access_token;
  const session = { userId: login.user_id, accessToken: token, deviceId: login.device_id };
  const { room_id: roomId } = await serverApi(server, 'POST', '/_matrix/client/v3/createRoom', {
    token,
    body: { name: kRoom },
  });
  for (let i = 0; i < 20; i++) {
    await serverApi(server, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/b${i}`, {
      token,
      body: { msgtype: 'm.text', body: `bench message ${i}` },
    });
  }
  const meeting = await serverApi(server, 'POST', '/_ruche/v1/meetings', {
    token,
    body: { title: 'Bench', allow_guests: true },
  });
  const bookingType = await serverApi(server, 'POST', '/_ruche/v1/booking_types', {
    token,
    body: {
      slug: 'bench',
      title: kBookingTitle,
      duration_min: 30,
      timezone: 'UTC',
      location: { kind: 'video' },
      availability: {
        weekly: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [['00:00', '23:59']]])),
        overrides: {},
      },
      horizon_days: 60,
    },
  });
  const precompressed = (await readdir(join(kWebRoot, 'assets'))).some((name) => name.endsWith('.br'));

  const pages = [
    { name: 'Login page', url: `${origin}/`, ready: loginReady, readyIs: 'Sign in button' },
    {
      name: 'Chat workspace',
      url: `${origin}/`,
      session,
      ready: chatReady,
      readyArg: kRoom,
      readyIs: 'conversation list after the first /sync',
      after: openRoom,
    },
    {
      name: 'Calendar (from the workspace)',
      url: `${origin}/`,
      session,
      ready: chatReady,
      readyArg: kRoom,
      readyIs: 'click on Calendar → week view',
      after: openCalendar,
    },
    { name: 'Meeting pre-join', url: origin + meeting.url, ready: joinReady, readyIs: 'Join button' },
    {
      name: 'Booking page',
      url: origin + bookingType.url,
      ready: bookingReady,
      readyArg: kBookingTitle,
      readyIs: 'free days listed',
    },
  ];

  const results = [];
  for (const spec of pages) {
    const runs = [];
    for (let i = 0; i < kRuns; i++) runs.push(await load(browser, origin, spec.url, spec));
    // Sizes from the first run (every cold run loads the same files).
    const unique = new Map(runs[0].files.map((file) => [file.path, file]));
    const totals = {};
    for (const file of unique.values()) {
      const sizes = await sizesOf(file.path);
      const total = (totals[file.kind] ??= { files: 0, raw: 0, gzip: 0, brotli: 0, wire: 0 });
      total.files++;
      total.raw += sizes.raw;
      total.gzip += sizes.gzip;
      total.brotli += sizes.brotli;
      total.wire += file.wire;
    }
    const chunks = [...unique.values()]
      .filter((file) => file.kind === 'js')
      .map((file) => file.path.replace(/^\/assets\//, ''));
    const mark = (key) => median(runs.map((run) => run.marks[key]));
    results.push({ spec, totals, chunks, mark });
  }

  console.log(`## Web client: size and start-up (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)\n`);
  console.log(`Machine: ${await machine(browser)}. Web root: ${kWebRoot} (precompressed .gz/.br siblings: ${precompressed ? 'yes' : 'no'}).\n`);
  console.log('| page | JS files | JS raw KiB | JS gzip KiB | JS brotli KiB | CSS raw KiB | CSS gzip KiB | CSS brotli KiB | all client files on the wire KiB |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const { spec, totals } of results) {
    const js = totals.js ?? { files: 0, raw: 0, gzip: 0, brotli: 0 };
    const css = totals.css ?? { raw: 0, gzip: 0, brotli: 0 };
    const wire = Object.values(totals).reduce((sum, total) => sum + total.wire, 0);
    console.log(
      `| ${spec.name} | ${js.files} | ${kib(js.raw)} | ${kib(js.gzip)} | ${kib(js.brotli)} | ${kib(css.raw)} | ${kib(css.gzip)} | ${kib(css.brotli)} | ${kib(wire)} |`,
    );
  }
  console.log(`\nMedians of ${kRuns} cold loads, ms from navigation start (calendar: from the click):\n`);
  console.log('| page | first paint | first contentful paint | DOMContentLoaded | load | ready | ready is |');
  console.log('|---|---|---|---|---|---|---|');
  for (const { spec, mark } of results) {
    let ready = ms(mark('ready'));
    if (spec.after === openRoom) ready += ` (composer ${ms(mark('composer'))})`;
    if (spec.after === openCalendar) ready = ms(mark('calendar'));
    console.log(
      `| ${spec.name} | ${ms(mark('firstPaint'))} | ${ms(mark('firstContentfulPaint'))} | ${ms(mark('domContentLoaded'))} | ${ms(mark('load'))} | ${ready} | ${spec.readyIs} |`,
    );
  }
  console.log('\nJS chunks each page loads:\n');
  for (const { spec, chunks } of results) console.log(`- ${spec.name}: ${chunks.join(', ')}`);
  const chat = results.find((result) => result.spec.after === openRoom);
  const foreign = chat.chunks.filter((chunk) => kForeignToChat.test(chunk));
  console.log(
    `\nChat view loads meeting, calendar or booking code: ${foreign.length ? `YES (${foreign.join(', ')})` : 'no'}`,
  );
} finally {
  await browser.close();
  await server.stop();
}
