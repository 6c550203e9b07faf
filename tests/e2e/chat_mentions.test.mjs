// Mentions and notifications in two browsers against the real binary. alice types "@bo", picks
// bob from the suggestions with Enter and sends; the event on the server carries
// m.mentions.user_ids and a matrix.to link; bob, in another room, sees the channel's mention
// badge and gets a browser notification, which opens the channel with the message highlighted.
// The suggestions from the keyboard alone (accents and case ignored, user IDs matched, arrows
// wrap, Escape, Tab); bob sets the channel to Off from its header (stored as a push rule): a
// further mention raises no notification while a direct message does; then All messages.
//
// Notifications are recorded by wrapping window.Notification in an init script: the wrapper
// calls the real constructor and pushes each title and body to window.__notes.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { docsScreenshot, launchBrowser, screenshot, visibleRawKeys, watchPage } from './lib/browser.mjs';
import { matrixApi, signInThroughPage, storyStep } from './lib/chat_session.mjs';
import { startServer } from './lib/ruche_server.mjs';

const kUsers = { alice: 'alice password 1', bob: 'bob password 1', carol: 'carol password 1' };
const kTimeoutMs = 20_000;
const kChannel = 'planning';
const kOther = 'random';

let server;
let browser;
let api;
let send;
const tokens = {}; // name → access token (API logins, to set the scene)
const ids = {}; // room name → room ID
const people = {}; // name → { context, page, problems, token, userId }
const step = storyStep(people);

/** Records notifications and permission requests; runs before the app's own scripts. */
function recordNotifications() {
  window.__notes = [];
  window.__noteObjects = [];
  window.__permissionRequests = 0;
  const Real = window.Notification;
  if (!Real) return;
  class Recorded extends Real {
    constructor(title, options = {}) {
      super(title, options);
      window.__notes.push({ title, body: options.body ?? '' });
      window.__noteObjects.push(this);
    }
  }
  Recorded.requestPermission = (...args) => {
    window.__permissionRequests += 1;
    return Real.requestPermission(...args);
  };
  window.Notification = Recorded;
}

/**
 * Signs `name` in, then opens the workspace in a new page of the same context with the recorder
 * installed from the start (signInThroughPage's onPage cannot wait for addInitScript before its
 * first navigation); the sign-in page is closed.
 */
async function signedIn(name, contextOptions = {}) {
  const person = await signInThroughPage(browser, server, name, kUsers[name], {
    contextOptions,
    timeoutMs: kTimeoutMs,
  });
  assert.deepEqual(person.problems, [], `${name}: problems while signing in`);
  await person.context.addInitScript(recordNotifications);
  const page = await person.context.newPage();
  const problems = watchPage(page);
  await page.goto(server.url);
  await page.getByRole('heading', { name: `Welcome, ${name}!` }).waitFor();
  await person.page.close();
  assert.deepEqual(await notes(page), []);
  return { ...person, page, problems };
}

const sidebar = (page) => page.getByRole('navigation', { name: 'Conversations' });
const log = (page, room = kChannel) => page.getByRole('log', { name: `Messages in ${room}` });
const messageRow = (scope, text) => scope.locator('li.message').filter({ hasText: text });
const composer = (page, room = kChannel) => page.getByRole('combobox', { name: `Message ${room}`, exact: true });
const suggestions = (page) => page.getByRole('listbox', { name: 'People to mention' });
const notes = (page) => page.evaluate(() => window.__notes);
const notifyButton = (page) => page.getByRole('button', { name: /^Notifications: / });

async function openRoom(page, name) {
  const heading = page.getByRole('heading', { name: `# ${name}`, level: 1 });
  if (await heading.isVisible()) return;
  await sidebar(page).getByRole('button', { name: new RegExp(`^${name}`) }).click();
  await heading.waitFor();
}

/** Waits until `page` has recorded `count` notifications; returns them all. */
async function waitForNotes(page, count) {
  await page.waitForFunction((n) => window.__notes.length >= n, count, { timeout: kTimeoutMs });
  return notes(page);
}

/** Waits until alice's message containing `text` is no longer pending: the server has it. */
const aliceSent = (text) =>
  log(people.alice.page).locator('li.message:not(.message--pending)').filter({ hasText: text }).waitFor();

/** The newest m.room.message of `roomId` whose body contains `text`, as stored on the server. */
async function storedMessage(roomId, text) {
  const path = `/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=50`;
  const { chunk } = await api(tokens.bob, 'GET', path);
  const event = chunk.find((e) => e.type === 'm.room.message' && e.content.body?.includes(text));
  assert.ok(event, `no message "${text}" on the server`);
  return event;
}

/** bob's push rule `kind`/`ruleId` on the server, or null when there is none (404). */
async function bobRule(kind, ruleId) {
  const path = `/_matrix/client/v3/pushrules/global/${kind}/${encodeURIComponent(ruleId)}`;
  const response = await fetch(server.url + path, { headers: { Authorization: `Bearer ${tokens.bob}` } });
  if (response.status === 404) return null;
  assert.equal(response.status, 200);
  return response.json();
}

before(async () => {
  server = await startServer({ users: kUsers });
  ({ api, send } = matrixApi(server));
  for (const name of Object.keys(kUsers)) {
    const answer = await fetch(`${server.url}/_matrix/client/v3/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user: name }, password: kUsers[name] }),
    }).then((r) => r.json());
    tokens[name] = answer.access_token;
  }
  const me = (name) => `@${name}:localhost`;
  await api(tokens.carol, 'PUT', `/profile/${encodeURIComponent(me('carol'))}/displayname`, {
    displayname: 'Zoë Durand',
  });
  for (const name of [kChannel, kOther]) {
    const invite = name === kChannel ? [me('bob'), me('carol')] : [me('bob')];
    ({ room_id: ids[name] } = await api(tokens.alice, 'POST', '/createRoom', { name, invite }));
    for (const user of invite) {
      await api(tokens[user.slice(1, user.indexOf(':'))], 'POST', `/rooms/${encodeURIComponent(ids[name])}/join`, {});
    }
  }
  ({ room_id: ids.dm } = await api(tokens.alice, 'POST', '/createRoom', {
    preset: 'trusted_private_chat',
    is_direct: true,
    invite: [me('bob')],
  }));
  await api(tokens.bob, 'POST', `/rooms/${encodeURIComponent(ids.dm)}/join`, {});
  await api(tokens.alice, 'PUT', `/user/${encodeURIComponent(me('alice'))}/account_data/m.direct`, { [me('bob')]: [ids.dm] });
  await api(tokens.bob, 'PUT', `/user/${encodeURIComponent(me('bob'))}/account_data/m.direct`, { [me('alice')]: [ids.dm] });

  browser = await launchBrowser();
  people.alice = await signedIn('alice'); // never asked: the permission stays "default"
  people.bob = await signedIn('bob', { permissions: ['notifications'] });
});

after(async () => {
  for (const person of Object.values(people)) await person.context?.close();
  await browser?.close();
  await server?.stop();
});

describe('mentions and notifications', () => {
  step('alice types @bo, the suggestions show bob, Enter picks him and she sends', async () => {
    const alice = people.alice.page;
    await openRoom(people.bob.page, kOther); // bob looks at another room
    await openRoom(alice, kChannel);
    const box = composer(alice);
    await box.click();
    await box.pressSequentially('@bo');
    const list = suggestions(alice);
    await list.waitFor();
    const options = list.getByRole('option');
    assert.equal(await options.count(), 1);
    assert.match(await options.first().textContent(), /bob.*@bob:localhost/);
    assert.equal(await box.getAttribute('aria-expanded'), 'true');
    assert.equal(await box.getAttribute('aria-controls'), await list.getAttribute('id'));
    assert.equal(await box.getAttribute('aria-activedescendant'), await options.first().getAttribute('id'));
    assert.equal(await options.first().getAttribute('aria-selected'), 'true');

    await box.press('Enter');
    await list.waitFor({ state: 'detached' });
    assert.equal(await box.inputValue(), 'bob ');
    assert.equal(await box.getAttribute('aria-expanded'), 'false');
    await box.pressSequentially('can you review the plan?');
    await box.press('Enter');
    assert.equal(await box.inputValue(), '');

    // alice's own view: bob as a pill, not hers.
    const row = messageRow(log(alice), 'can you review the plan?');
    await row.locator('.mention-pill').filter({ hasText: 'bob' }).waitFor();
    assert.equal(await row.locator('.mention-pill--me').count(), 0);
    assert.equal(await row.locator('.mention-pill').getAttribute('title'), '@bob:localhost');
  });

  step('the event on the server mentions bob: m.mentions and a matrix.to link', async () => {
    await aliceSent('can you review the plan?');
    const event = await storedMessage(ids[kChannel], 'can you review the plan?');
    assert.equal(event.content.body, 'bob can you review the plan?');
    assert.deepEqual(event.content['m.mentions'], { user_ids: ['@bob:localhost'] });
    assert.equal(event.content.format, 'org.matrix.custom.html');
    assert.equal(
      event.content.formatted_body,
      '<a href="https://matrix.to/#/@bob:localhost">bob</a> can you review the plan?',
    );
  });

  step('bob gets a mention badge and a notification that opens the room', async () => {
    const bob = people.bob.page;
    const link = sidebar(bob).getByRole('button', {
      name: `${kChannel}, 1 unread message, 1 mention of you`,
      exact: true,
    });
    await link.waitFor();
    assert.equal(await link.locator('.badge--mention').count(), 1);
    assert.deepEqual(await waitForNotes(bob, 1), [
      { title: `alice in #${kChannel}`, body: 'bob can you review the plan?' },
    ]);

    // Clicking the notification opens its room.
    await bob.evaluate(() => window.__noteObjects[0].dispatchEvent(new Event('click')));
    await bob.getByRole('heading', { name: `# ${kChannel}`, level: 1 }).waitFor();
    const row = messageRow(log(bob), 'can you review the plan?');
    await row.locator('.mention-pill--me').filter({ hasText: 'bob' }).waitFor();
    assert.match(await row.getAttribute('class'), /\bmessage--mention\b/);
    await row.getByText('Mentions you').first().waitFor();
    await sidebar(bob).getByRole('button', { name: kChannel, exact: true }).waitFor();
    await screenshot(bob, 'mentions-bob-en.png');
    await docsScreenshot(bob, 'chat-mention-en.png');
    await openRoom(bob, kOther);
  });

  step('the suggestions from the keyboard alone: accents, user IDs, arrows, Escape, Tab', async () => {
    const alice = people.alice.page;
    const box = composer(alice);
    await box.focus();
    const list = suggestions(alice);
    const active = async () => {
      const id = await box.getAttribute('aria-activedescendant');
      return alice.locator(`[id="${id}"]`).locator('.mention-option__name').textContent();
    };

    // Accents and case do not matter; Escape closes the list and leaves the text.
    await alice.keyboard.type('@ZOE');
    await list.waitFor();
    assert.deepEqual(await list.locator('.mention-option__name').allTextContents(), ['Zoë Durand']);
    await alice.keyboard.press('Escape');
    await list.waitFor({ state: 'detached' });
    assert.equal(await box.inputValue(), '@ZOE');
    assert.equal(await alice.evaluate(() => document.activeElement?.id), 'room-composer');
    await alice.keyboard.press('Control+A');
    await alice.keyboard.press('Backspace');

    // A user ID matches too.
    await alice.keyboard.type('@car');
    await list.waitFor();
    assert.deepEqual(await list.locator('.mention-option__detail').allTextContents(), ['@carol:localhost']);
    await alice.keyboard.press('Control+A');
    await alice.keyboard.press('Backspace');

    // "@" alone: every member but alice, then @room (she created the room).
    await alice.keyboard.type('@');
    await list.waitFor();
    assert.deepEqual(await list.locator('.mention-option__name').allTextContents(), ['bob', 'Zoë Durand', '@room']);
    assert.equal(await active(), 'bob');
    await screenshot(alice, 'mentions-suggestions-en.png');
    await alice.keyboard.press('ArrowDown');
    assert.equal(await active(), 'Zoë Durand');
    await alice.keyboard.press('ArrowUp');
    await alice.keyboard.press('ArrowUp');
    assert.equal(await active(), '@room'); // wraps
    await alice.keyboard.press('ArrowDown');
    await alice.keyboard.press('ArrowDown');
    assert.equal(await active(), 'Zoë Durand');
    await alice.keyboard.press('Tab');
    await list.waitFor({ state: 'detached' });
    assert.equal(await box.inputValue(), 'Zoë Durand ');
    await alice.keyboard.type('and @BO');
    await list.waitFor();
    await alice.keyboard.press('Enter');
    assert.equal(await box.inputValue(), 'Zoë Durand and bob ');
    await alice.keyboard.type('see you at ten');
    await alice.keyboard.press('Enter');
    assert.equal(await box.inputValue(), '');

    await aliceSent('see you at ten');
    const event = await storedMessage(ids[kChannel], 'see you at ten');
    assert.deepEqual(event.content['m.mentions'].user_ids.sort(), ['@bob:localhost', '@carol:localhost']);
    assert.equal(
      event.content.formatted_body,
      '<a href="https://matrix.to/#/@carol:localhost">Zoë Durand</a> and ' +
        '<a href="https://matrix.to/#/@bob:localhost">bob</a> see you at ten',
    );
    const bobNotes = await waitForNotes(people.bob.page, 2);
    assert.deepEqual(bobNotes[1], { title: `alice in #${kChannel}`, body: 'Zoë Durand and bob see you at ten' });
  });

  step('bob turns the channel off from its header, with the keyboard', async () => {
    const bob = people.bob.page;
    await openRoom(bob, kChannel);
    const button = notifyButton(bob);
    assert.equal(await button.getAttribute('aria-label'), 'Notifications: Mentions only'); // a channel's default
    await button.focus();
    await bob.keyboard.press('Enter');
    const menu = bob.getByRole('menu', { name: `Notifications for ${kChannel}` });
    await menu.waitFor();
    // Permission is granted: the menu does not offer to ask for it.
    assert.equal(await menu.getByRole('menuitem', { name: /desktop notifications/ }).count(), 0);
    const checked = menu.getByRole('menuitemradio', { checked: true });
    assert.equal(await checked.count(), 1);
    // Named by the setting alone; what it does is its description.
    assert.equal(await menu.getByRole('menuitemradio', { name: 'Mentions only', exact: true, checked: true }).count(), 1);
    assert.ok(await checked.evaluate((el) => el === document.activeElement), 'focus on the setting in force');
    await screenshot(bob, 'mentions-notifications-menu-en.png');
    await bob.keyboard.press('ArrowDown');
    const off = menu.getByRole('menuitemradio', { name: 'Off', exact: true });
    assert.ok(await off.evaluate((el) => el === document.activeElement), 'ArrowDown moves to Off');
    await bob.keyboard.press('Enter');
    await menu.waitFor({ state: 'detached' });
    await bob.getByRole('button', { name: 'Notifications: Off', exact: true }).waitFor();
    assert.ok(await notifyButton(bob).evaluate((el) => el === document.activeElement), 'focus back on the button');

    // Stored as Element does: an override rule named after the room, matching its room_id.
    const rule = await bobRule('override', ids[kChannel]);
    assert.deepEqual(rule.actions, []);
    assert.deepEqual(rule.conditions, [{ kind: 'event_match', key: 'room_id', pattern: ids[kChannel] }]);
    assert.equal(await bobRule('room', ids[kChannel]), null);
    await openRoom(bob, kOther);
  });

  step('a mention in a room set to Off raises no notification; a direct message does', async () => {
    const alice = people.alice.page;
    const bob = people.bob.page;
    const box = composer(alice);
    await box.click();
    await box.pressSequentially('@bo');
    await suggestions(alice).waitFor();
    await box.press('Enter');
    await box.pressSequentially('are you there?');
    await box.press('Enter');
    // Stored before the direct message: bob's client sees the two in that order.
    await aliceSent('are you there?');
    const muted = await storedMessage(ids[kChannel], 'are you there?');
    assert.deepEqual(muted.content['m.mentions'], { user_ids: ['@bob:localhost'] });
    await send(tokens.alice, ids.dm, { msgtype: 'm.text', body: 'lunch at noon?' });

    const all = await waitForNotes(bob, 3);
    assert.deepEqual(all[2], { title: 'alice', body: 'lunch at noon?' });
    assert.equal(all.length, 3);
    assert.ok(!all.some((note) => note.body.includes('are you there?')), 'the muted mention notified');
    // No count for a room whose notifications are off.
    const link = sidebar(bob).getByRole('button', { name: `${kChannel}, notifications off`, exact: true });
    await link.waitFor();
    assert.equal(await link.locator('.badge').count(), 0);
    // Opened, the muted mention is not highlighted; the earlier one still is.
    await link.click();
    await messageRow(log(bob), 'are you there?').waitFor();
    assert.doesNotMatch(await messageRow(log(bob), 'are you there?').getAttribute('class'), /message--mention/);
    assert.match(await messageRow(log(bob), 'can you review').getAttribute('class'), /message--mention/);
  });

  step('the setting survives a reload; All messages notifies of every message', async () => {
    const bob = people.bob.page;
    await bob.reload();
    await openRoom(bob, kChannel);
    await bob.getByRole('button', { name: 'Notifications: Off', exact: true }).click();
    const menu = bob.getByRole('menu');
    await menu.getByRole('menuitemradio', { name: 'All messages', exact: true }).click();
    await bob.getByRole('button', { name: 'Notifications: All messages', exact: true }).waitFor();
    assert.deepEqual((await bobRule('room', ids[kChannel])).actions, ['notify']);
    assert.equal(await bobRule('override', ids[kChannel]), null);

    await openRoom(bob, kOther);
    const before = (await notes(bob)).length; // 0: the reload started a new page
    await send(tokens.alice, ids[kChannel], { msgtype: 'm.text', body: 'plain update, no mention' });
    const all = await waitForNotes(bob, before + 1);
    assert.deepEqual(all.at(-1), { title: `alice in #${kChannel}`, body: 'plain update, no mention' });
  });

  step('alice is never asked on load; her menu asks the browser when she chooses to', async () => {
    const alice = people.alice.page;
    assert.equal(await alice.evaluate(() => window.__permissionRequests), 0);
    assert.equal(await alice.evaluate(() => Notification.permission), 'default');
    assert.deepEqual(await notes(alice), []);
    await notifyButton(alice).click();
    const item = alice.getByRole('menuitem', { name: /^Turn on desktop notifications/ });
    await item.waitFor();
    await item.click();
    await alice.waitForFunction(() => window.__permissionRequests === 1);
  });

  step('shows no untranslated keys and logged no console errors or CSP violations', async () => {
    for (const [name, person] of Object.entries(people)) {
      assert.deepEqual(await visibleRawKeys(person.page), [], `${name}: raw keys`);
      assert.deepEqual(person.problems, [], `${name}: page problems`);
    }
  });
});
