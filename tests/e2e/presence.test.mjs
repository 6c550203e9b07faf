// Presence in two browsers against the real binary: alice and bob share a direct chat. bob sets
// "Do not disturb" and a status message from his status menu; alice sees his dot change (its
// glyph, title and accessible name) in her sidebar and in the room's details; bob goes back to
// Automatic and clears the message, and alice sees him available; bob joins a meeting with his
// account and alice sees "In a meeting" until he leaves. Also the menu's keyboard behaviour and
// its 1,024-byte limit on status messages. Needs a server with Ruche's availabilities
// (docs/api.md, "Presence"): dnd and busy chosen by the user, in_meeting from meetings.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { docsScreenshot, kMediaArgs, launchBrowser, screenshot, visibleRawKeys } from './lib/browser.mjs';
import { matrixApi, signInThroughPage, storyStep } from './lib/chat_session.mjs';
import { serverApi, startServer } from './lib/ruche_server.mjs';

const kUsers = { alice: 'alice password 1', bob: 'bob password 1' };
const kTimeoutMs = 20_000;
const kStatus = 'Writing the quarterly report';

let server;
let browser;
let api;
let dmId;
const people = {}; // name → { context, page, problems, token, userId }
const step = storyStep(people);

const signedIn = (name) =>
  signInThroughPage(browser, server, name, kUsers[name], { timeoutMs: kTimeoutMs });

const sidebar = (page) => page.getByRole('navigation', { name: 'Conversations' });
const directs = (page) => sidebar(page).getByRole('region', { name: 'Direct messages' });
/** The sidebar entry of the direct chat with `name`, named "<name>, <presence>". */
const dmEntry = (page, name, presence) =>
  directs(page).getByRole('button', { name: `${name}, ${presence}`, exact: true });
/** The top-bar button that opens the status menu (named after the user and their presence). */
const statusButton = (page) => page.getByRole('banner').getByRole('button', { name: /Set your status$/ });
const escapeRe = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The same button once it names `presence` as bob's ("Signed in as bob (Busy). Set your status"). */
const ownStatus = (page, presence) =>
  page.getByRole('banner').getByRole('button', {
    name: new RegExp(`^Signed in as .*bob.* \\(${escapeRe(presence)}\\)\\. Set your status$`),
  });
const statusMenu = (page) => page.getByRole('dialog', { name: 'Your status' });

/** bob's presence as the server gives it to alice (GET /presence/{bob}/status). */
const bobOnServer = () =>
  api(people.alice.token, 'GET', `/presence/${encodeURIComponent(people.bob.userId)}/status`);

/** Waits until alice's sidebar entry for bob says `presence`, and checks its dot. */
async function aliceSeesBob(presence, state) {
  const entry = dmEntry(people.alice.page, 'bob', presence);
  await entry.waitFor();
  const dot = entry.locator('.presence-dot');
  assert.equal(await dot.getAttribute('data-presence'), state);
  assert.equal(await dot.getAttribute('title'), presence);
  // The glyph is what tells the states apart without colour: each has its own shape.
  const glyphs = await dot.locator('.presence-dot__glyph').count();
  assert.equal(glyphs, state === 'busy' || state === 'offline' ? 0 : 1);
}

/** Opens bob's status menu from the top bar, picks `choice`, sets `message`, saves. */
async function bobSetsStatus(choice, message) {
  const page = people.bob.page;
  await statusButton(page).click();
  const menu = statusMenu(page);
  await menu.waitFor();
  await menu.getByRole('radio', { name: new RegExp(`^${choice}`) }).check();
  const field = menu.getByLabel('Status message', { exact: true });
  if (message === '') {
    await menu.getByRole('button', { name: 'Clear message' }).click();
    assert.equal(await field.inputValue(), '');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'status-message');
  } else {
    await field.fill(message);
  }
  await menu.getByRole('button', { name: 'Save' }).click();
  await menu.waitFor({ state: 'detached' });
}

before(async () => {
  server = await startServer({ users: kUsers });
  ({ api } = matrixApi(server));
  // Fake camera and microphone: bob joins a meeting from his browser.
  browser = await launchBrowser({ extraArgs: kMediaArgs });
  people.alice = await signedIn('alice');
  people.bob = await signedIn('bob');
  await people.bob.context.grantPermissions(['camera', 'microphone'], { origin: server.url });

  // A direct chat between them, as the "New message" dialog makes one (is_direct + m.direct).
  const alice = people.alice;
  const bob = people.bob;
  ({ room_id: dmId } = await api(alice.token, 'POST', '/createRoom', {
    preset: 'trusted_private_chat',
    is_direct: true,
    invite: [bob.userId],
  }));
  await api(alice.token, 'PUT', `/user/${encodeURIComponent(alice.userId)}/account_data/m.direct`, {
    [bob.userId]: [dmId],
  });
  await api(bob.token, 'POST', `/join/${encodeURIComponent(dmId)}`, {});
  await api(bob.token, 'PUT', `/user/${encodeURIComponent(bob.userId)}/account_data/m.direct`, {
    [alice.userId]: [dmId],
  });
});

after(async () => {
  for (const person of Object.values(people)) await person.context?.close();
  await browser?.close();
  await server?.stop();
});

describe('presence', () => {
  step('each sees the other available in the direct chat entry', async () => {
    await aliceSeesBob('Available', 'available');
    await dmEntry(people.bob.page, 'alice', 'Available').waitFor();
    // The top bar shows one's own presence, and names it for screen readers.
    await ownStatus(people.bob.page, 'Available').waitFor();
  });

  step('the status menu is keyboard friendly and refuses a message over 1,024 bytes', async () => {
    const page = people.bob.page;
    const opener = statusButton(page);
    await opener.focus();
    await page.keyboard.press('Enter');
    const menu = statusMenu(page);
    await menu.waitFor();
    assert.equal(await opener.getAttribute('aria-expanded'), 'true');
    // The choice in force has the focus, and it is Automatic.
    const automatic = menu.getByRole('radio', { name: /^Automatic/ });
    assert.ok(await automatic.isChecked());
    assert.ok(await automatic.evaluate((el) => el === document.activeElement), 'focus on the choice');
    await menu.getByText('Now:').waitFor();
    assert.equal(await menu.locator('#status-menu-current').textContent(), 'Available');
    // Arrow keys move through the choices (a radio group).
    await page.keyboard.press('ArrowDown');
    assert.ok(await menu.getByRole('radio', { name: /^Busy/ }).isChecked());

    // 513 × "é" is 1,026 bytes in UTF-8 though only 513 characters.
    const field = menu.getByLabel('Status message', { exact: true });
    await field.fill('é'.repeat(513));
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    await menu.getByText('This status message is too long: 1,024 bytes at most.').first().waitFor();
    await menu.getByRole('button', { name: 'Save' }).click();
    await menu.getByRole('alert').getByText('This status message is too long').waitFor();
    assert.ok(await menu.isVisible(), 'the menu stays open');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'status-message');
    const onServer = await bobOnServer();
    assert.equal(onServer.status_msg, undefined, 'nothing was sent');
    assert.equal(onServer['org.ruche.availability'], undefined);

    // Escape closes without saving and gives the focus back to the top-bar button.
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached' });
    assert.ok(await opener.evaluate((el) => el === document.activeElement), 'focus returned');
    assert.equal(await opener.getAttribute('aria-expanded'), 'false');
    assert.deepEqual(await visibleRawKeys(page), []);
  });

  step('bob chooses Do not disturb with a status message, and alice sees it', async () => {
    await bobSetsStatus('Do not disturb', kStatus);
    const label = `Do not disturb: ${kStatus}`;
    await aliceSeesBob(label, 'dnd');
    const onServer = await bobOnServer();
    assert.equal(onServer['org.ruche.availability'], 'dnd');
    assert.equal(onServer['org.ruche.availability_source'], 'user');
    assert.equal(onServer.status_msg, kStatus);

    // bob's own top bar and menu show the state in force.
    const bob = people.bob.page;
    await ownStatus(bob, label).waitFor();
    await statusButton(bob).click();
    const menu = statusMenu(bob);
    assert.ok(await menu.getByRole('radio', { name: /^Do not disturb/ }).isChecked());
    assert.equal(await menu.getByLabel('Status message', { exact: true }).inputValue(), kStatus);
    assert.equal(await menu.locator('#status-menu-current').textContent(), label);
    await screenshot(bob, 'presence-status-menu-en.png');
    await menu.getByRole('button', { name: 'Cancel' }).click();
    await menu.waitFor({ state: 'detached' });

    // In the room's details, bob's dot is an image named after his presence, with his message.
    const alice = people.alice.page;
    await dmEntry(alice, 'bob', label).click();
    await alice.getByRole('button', { name: 'Details' }).click();
    const panel = alice.getByRole('complementary', { name: 'Details' });
    const bobRow = panel.locator('li.member').filter({ hasText: 'bob' });
    const dot = bobRow.getByRole('img', { name: label, exact: true });
    await dot.waitFor();
    assert.equal(await dot.getAttribute('data-presence'), 'dnd');
    await bobRow.getByText(kStatus, { exact: true }).waitFor();
    await screenshot(alice, 'presence-details-en.png');
    await docsScreenshot(alice, 'chat-presence-en.png');
  });

  step('bob goes back to Automatic and clears his message, and alice sees him available', async () => {
    await bobSetsStatus('Automatic', '');
    await aliceSeesBob('Available', 'available');
    const panel = people.alice.page.getByRole('complementary', { name: 'Details' });
    const bobRow = panel.locator('li.member').filter({ hasText: 'bob' });
    await bobRow.getByRole('img', { name: 'Available', exact: true }).waitFor();
    assert.equal(await bobRow.getByText(kStatus).count(), 0, 'the cleared message is gone');
    const onServer = await bobOnServer();
    assert.equal(onServer.presence, 'online');
    assert.equal(onServer['org.ruche.availability'], undefined);
    assert.equal(onServer.status_msg, undefined);
  });

  step('bob joins a meeting with his account: alice sees him in a meeting, then available', async () => {
    const meeting = await serverApi(server, 'POST', '/_ruche/v1/meetings', {
      token: people.bob.token,
      body: { title: 'Design review', allow_guests: false },
    });
    // A second tab of bob's, signed in: autojoin joins with his account.
    const tab = await people.bob.context.newPage();
    try {
      await tab.goto(`${server.url}${meeting.url}&autojoin=1`);
      await tab.getByRole('button', { name: 'Leave meeting' }).waitFor();
      await aliceSeesBob('In a meeting', 'in_meeting');
      const onServer = await bobOnServer();
      assert.equal(onServer['org.ruche.availability'], 'in_meeting');
      assert.equal(onServer['org.ruche.availability_source'], 'meeting');
      // bob sees it on his own top bar too.
      await ownStatus(people.bob.page, 'In a meeting').waitFor();

      await tab.getByRole('button', { name: 'Leave meeting' }).click();
      await tab.getByRole('heading', { name: 'You left the meeting' }).waitFor();
      await aliceSeesBob('Available', 'available');
      assert.equal((await bobOnServer())['org.ruche.availability'], undefined);
    } finally {
      await tab.close();
    }
    assert.deepEqual(people.alice.problems, []);
    assert.deepEqual(people.bob.problems, []);
  });
});
