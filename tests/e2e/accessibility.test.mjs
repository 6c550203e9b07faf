// axe-core (npm, web/node_modules) on the main views, in the light and the dark colour scheme:
// the login page, the chat workspace with a room and its messages, the thread panel, the room's
// details, the status menu, the calendar's week view, each tab of the settings, the public
// booking page (days, then the visitor's form) and the meeting pre-join page. A
// violation of impact "serious" or "critical" of the WCAG 2.0 / 2.1 A and AA rules fails the
// test, printed with its rule, help text and the elements concerned; lesser ones are printed.
// (lib/axe.mjs runs axe.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { axeViolations } from './lib/axe.mjs';
import { kMediaArgs, launchBrowser, newContext, reportFailure, watchPage } from './lib/browser.mjs';
import { matrixApi, signInThroughPage } from './lib/chat_session.mjs';
import { serverApi, startServer } from './lib/ruche_server.mjs';


const kUsers = { alice: 'alice password 1', bob: 'bob password 1' };
const kTimeoutMs = 20_000;
const kChannel = 'design-review';
const kSlug = 'intro-call';

let server;
let browser;
let api;
let send;
let alice; // { context, page, problems, token, userId }
let bobToken;
let meetingLink;
const pages = {}; // name → { page, problems }: what reportFailure prints

async function assertAccessible(page, view, scheme) {
  // The colours checked are the scheme's: the page really sees it.
  const dark = await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches);
  assert.equal(dark, scheme === 'dark', `${view}: the page is not in the ${scheme} scheme`);
  const found = await axeViolations(page, `${view}, ${scheme}`);
  assert.deepEqual(found, [], `axe found serious or critical violations:\n${found.join('\n')}`);
}

/** `it` that prints what every open page showed when it failed. */
const check = (name, fn) =>
  it(name, async () => {
    try {
      await fn();
    } catch (error) {
      await reportFailure(name, pages);
      throw error;
    }
  });

/** A page of its own (visitor, guest), in `scheme`, its problems watched. */
async function visitorPage(scheme, { media = false } = {}) {
  const context = await newContext(browser, { locale: 'en-US', viewport: { width: 1280, height: 860 } });
  context.setDefaultTimeout(kTimeoutMs);
  if (media) await context.grantPermissions(['camera', 'microphone'], { origin: server.url });
  const page = await context.newPage();
  await page.emulateMedia({ colorScheme: scheme });
  const problems = watchPage(page);
  pages.visitor = { page, problems };
  return { context, page, problems };
}

async function login(name) {
  const answer = await serverApi(server, 'POST', '/_matrix/client/v3/login', {
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: name }, password: kUsers[name] },
  });
  return answer.access_token;
}

/** Today + `days` as YYYY-MM-DD (UTC). */
const dayFromNow = (days) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

before(async () => {
  server = await startServer({ users: kUsers });
  ({ api, send } = matrixApi(server));
  browser = await launchBrowser({ extraArgs: kMediaArgs }); // the pre-join shows a camera preview
  alice = await signInThroughPage(browser, server, 'alice', kUsers.alice, { timeoutMs: kTimeoutMs });
  pages.alice = alice;
  bobToken = await login('bob');
  const bobId = '@bob:localhost';

  // A channel with a topic, messages (Markdown, a reply, a reaction) and a thread; a direct chat;
  // a team.
  const { room_id: roomId } = await api(alice.token, 'POST', '/createRoom', {
    name: kChannel,
    topic: 'Mock-ups and decisions',
    preset: 'private_chat',
    invite: [bobId],
  });
  await api(bobToken, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
  const { event_id: rootId } = await send(alice.token, roomId, {
    msgtype: 'm.text',
    body: 'The new **home page** is ready: https://example.org/mock',
    format: 'org.matrix.custom.html',
    formatted_body: 'The new <strong>home page</strong> is ready: <a href="https://example.org/mock">https://example.org/mock</a>',
  });
  await send(bobToken, roomId, {
    msgtype: 'm.text',
    body: 'Looks good. One remark in the thread.',
    'm.relates_to': { 'm.in_reply_to': { event_id: rootId } },
  });
  await send(bobToken, roomId, {
    msgtype: 'm.text',
    body: 'The contrast of the footer links is low.',
    'm.relates_to': { rel_type: 'm.thread', event_id: rootId, is_falling_back: true, 'm.in_reply_to': { event_id: rootId } },
  });
  await api(bobToken, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.reaction/r1`, {
    'm.relates_to': { rel_type: 'm.annotation', event_id: rootId, key: '👍' },
  });
  await send(alice.token, roomId, { msgtype: 'm.text', body: 'Thanks, I will fix it.\n```\na { color: inherit; }\n```' });

  const { room_id: dmId } = await api(alice.token, 'POST', '/createRoom', {
    preset: 'trusted_private_chat',
    is_direct: true,
    invite: [bobId],
  });
  await api(alice.token, 'PUT', `/user/${encodeURIComponent(alice.userId)}/account_data/m.direct`, { [bobId]: [dmId] });
  await api(bobToken, 'POST', `/join/${encodeURIComponent(dmId)}`, {});
  await api(alice.token, 'POST', '/createRoom', { name: 'Product', preset: 'private_chat', creation_content: { type: 'm.space' } });

  // The calendar: an event today, in the week view the calendar opens on.
  const ruche = (method, path, body) => serverApi(server, method, path, { token: alice.token, body });
  await ruche('POST', '/_ruche/v1/calendars/personal/events', {
    summary: 'Design review',
    start: `${dayFromNow(0)}T13:00:00Z`,
    end: `${dayFromNow(0)}T14:00:00Z`,
    timezone: 'UTC',
  });
  // A booking type open every day, and a meeting for the pre-join page.
  const allDay = [['08:00', '20:00']];
  await ruche('POST', '/_ruche/v1/booking_types', {
    slug: kSlug,
    title: 'Introduction call',
    description: 'Twenty minutes to get to know each other.',
    duration_min: 30,
    timezone: 'UTC',
    location: { kind: 'video' },
    availability: {
      weekly: { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay },
      overrides: {},
    },
    horizon_days: 60,
    questions: [{ id: 'topic', label: 'What would you like to talk about?', required: false }],
  });
  const meeting = await ruche('POST', '/_ruche/v1/meetings', { title: 'Weekly sync', allow_guests: true });
  meetingLink = server.url + meeting.url;

  // The room is there with its messages before any check.
  await alice.page.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name: kChannel }).waitFor();
});

after(async () => {
  await alice?.context.close();
  await browser?.close();
  await server?.stop();
});

for (const scheme of ['light', 'dark']) {
  describe(`axe in the ${scheme} colour scheme`, () => {
    check('the login page', async () => {
      const { context, page, problems } = await visitorPage(scheme);
      try {
        await page.goto(server.url);
        await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
        await assertAccessible(page, 'login', scheme);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    check('the chat workspace with a room and its messages', async () => {
      const { page } = alice;
      await page.emulateMedia({ colorScheme: scheme });
      await page.getByRole('navigation', { name: 'Teams' }).getByRole('button', { name: 'Home' }).click();
      await page.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name: kChannel }).click();
      const log = page.getByRole('log', { name: `Messages in ${kChannel}` });
      await log.getByText('Thanks, I will fix it.').waitFor();
      await log.getByText('1 reply').waitFor();
      await assertAccessible(page, 'room', scheme);
    });

    check('the thread panel', async () => {
      const { page } = alice;
      await page.getByRole('log', { name: `Messages in ${kChannel}` }).getByRole('button', { name: '1 reply' }).click();
      const panel = page.getByRole('complementary', { name: 'Thread' });
      await panel.getByText('The contrast of the footer links is low.').waitFor();
      await assertAccessible(page, 'thread', scheme);
      await panel.getByRole('button', { name: 'Close the thread' }).click();
      await panel.waitFor({ state: 'detached' });
    });

    check("the room's details", async () => {
      const { page } = alice;
      await page.getByRole('button', { name: 'Details' }).click();
      const panel = page.getByRole('complementary', { name: 'Details' });
      await panel.getByRole('region', { name: '2 members' }).waitFor();
      await panel.getByText('No files shared yet.').or(panel.getByRole('list', { name: 'Files' })).waitFor();
      await assertAccessible(page, 'details', scheme);
      await panel.getByRole('button', { name: 'Close the details' }).click();
      await panel.waitFor({ state: 'detached' });
    });

    check('the status menu', async () => {
      const { page } = alice;
      await page.getByRole('banner').getByRole('button', { name: /Set your status$/ }).click();
      const menu = page.getByRole('dialog', { name: 'Your status' });
      await menu.getByRole('radio', { name: /^Automatic/ }).waitFor();
      await assertAccessible(page, 'status menu', scheme);
      await page.keyboard.press('Escape');
      await menu.waitFor({ state: 'detached' });
    });

    check('the calendar week view', async () => {
      const { page } = alice;
      await page.getByRole('navigation', { name: 'Teams' }).getByRole('button', { name: 'Calendar', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Calendar' }).waitFor();
      await page.locator('section.week__day').first().waitFor();
      await page.getByText('Design review').first().waitFor();
      await assertAccessible(page, 'calendar week', scheme);
      await page.getByRole('navigation', { name: 'Teams' }).getByRole('button', { name: 'Home' }).click();
      await page.getByRole('heading', { level: 1, name: `# ${kChannel}` }).or(page.getByRole('heading', { name: 'Welcome, alice!' })).waitFor();
    });

    check('the settings, each of its tabs', async () => {
      const { page } = alice;
      await page.getByRole('banner').getByRole('button', { name: 'Settings', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Settings' });
      await dialog.waitFor();
      const tabs = dialog.getByRole('tab');
      const names = await tabs.allTextContents();
      assert.ok(names.length >= 2, `settings tabs: ${names}`);
      for (const name of names) {
        await dialog.getByRole('tab', { name, exact: true }).click();
        const panel = dialog.getByRole('tabpanel', { name, exact: true });
        await panel.waitFor();
        // Whatever the tab loads (sessions, profile) is there before the check.
        await panel.getByText('Loading…').waitFor({ state: 'detached' });
        await assertAccessible(page, `settings: ${name}`, scheme);
      }
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
    });

    check('the public booking page and its form', async () => {
      const { context, page, problems } = await visitorPage(scheme);
      try {
        await page.goto(`${server.url}/book/alice/${kSlug}`);
        await page.getByRole('heading', { level: 1, name: 'Introduction call' }).waitFor();
        const freeDay = page.getByRole('button', { name: /, \d+ free times?(, today)?$/ }).first();  // today's label ends ", today"
        await freeDay.waitFor();
        await assertAccessible(page, 'booking days', scheme);
        await freeDay.click();
        const slots = page.getByRole('list', { name: /^Free times on / });
        await slots.waitFor();
        await slots.getByRole('button').first().click();
        await page.getByRole('heading', { name: 'Your details' }).waitFor();
        await assertAccessible(page, 'booking form', scheme);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    check('the meeting pre-join page', async () => {
      const { context, page, problems } = await visitorPage(scheme, { media: true });
      try {
        await page.goto(meetingLink);
        await page.getByLabel('Your name', { exact: true }).waitFor();
        await page.getByRole('button', { name: 'Join meeting' }).waitFor();
        await assertAccessible(page, 'meeting pre-join', scheme);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  });
}

describe('the checks themselves', () => {
  it('find a serious violation when there is one', async () => {
    // A page made inaccessible on purpose: a button without a name.
    const { context, page } = await visitorPage('light');
    try {
      await page.goto(server.url);
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
      await page.evaluate(() => {
        const button = document.createElement('button');
        button.className = 'icon-button';
        document.querySelector('main, #app').append(button);
      });
      const found = await axeViolations(page, 'broken on purpose');
      assert.ok(found.some((line) => line.includes('button-name')), found.join('\n'));
    } finally {
      await context.close();
    }
  });

  it('ran on every signed-in view without page errors', () => {
    assert.deepEqual(alice.problems, []);
  });
});
