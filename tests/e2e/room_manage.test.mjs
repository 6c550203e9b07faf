// Managing a room from its details panel, in two browsers against the real binary: alice creates
// a channel, renames it, gives it a topic and a picture (with the length check and a refusal by
// the server shown); bob sees all of it but no way to change it, then leaves the channel after
// confirming, and alice leaves a team. Then alice writes 60 messages while bob is away: back in
// the room at its bottom, bob jumps to the first unread one (older pages loaded on the way), and
// "Mark as read" dismisses the jump for a second batch.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { axeViolations } from './lib/axe.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { matrixApi, signInThroughPage, storyStep } from './lib/chat_session.mjs';
import { startServer } from './lib/ruche_server.mjs';

const kUsers = { alice: 'alice password 1', bob: 'bob password 1' };
const kTimeoutMs = 15_000;
const kFirstName = 'planning';
const kName = 'roadmap';
const kTopic = 'Where the next releases are planned';
const kLobby = 'lobby';
const kBacklog = 'backlog';
const kBacklogCount = 60;
const kRefusal = 'Topics are frozen in this room';

let server;
let browser;
const people = {}; // name → { context, page, problems, token, userId }
let api;
let send;

const sidebar = (page) => page.getByRole('navigation', { name: 'Conversations' });
const details = (page) => page.getByRole('complementary', { name: 'Details' });
const log = (page, room) => page.getByRole('log', { name: `Messages in ${room}` });
const roomHeading = (page, name) => page.getByRole('heading', { name: `# ${name}`, level: 1 });
const jumpButton = (page) => page.getByRole('button', { name: 'Jump to first unread' });
const roomState = (token, roomId, type) =>
  api(token, 'GET', `/rooms/${encodeURIComponent(roomId)}/state/${type}`);

/** Opens a channel from the sidebar unless it is already open. */
async function openRoom(page, name) {
  if (await roomHeading(page, name).isVisible()) return;
  await sidebar(page).getByRole('button', { name: new RegExp(`^${name}`) }).click();
  await roomHeading(page, name).waitFor();
}

async function openDetails(page) {
  if (await details(page).isVisible()) return;
  await page.getByRole('button', { name: 'Details', exact: true }).click();
  await details(page).waitFor();
}

/** Whether `inner`'s box lies within `outer`'s (both on screen). */
async function within(inner, outer) {
  const a = await inner.boundingBox();
  const b = await outer.boundingBox();
  return !!a && !!b && a.y >= b.y - 1 && a.y + a.height <= b.y + b.height + 1;
}

/** A small PNG drawn in `page`. */
async function makePng(page) {
  const bytes = await page.evaluate(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 120;
    canvas.height = 80;
    const g = canvas.getContext('2d');
    g.fillStyle = '#2f7d4f';
    g.fillRect(0, 0, 120, 80);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    return [...new Uint8Array(await blob.arrayBuffer())];
  });
  return Buffer.from(bytes);
}

async function joinedRooms(token) {
  return (await api(token, 'GET', '/joined_rooms')).joined_rooms;
}

const step = storyStep(people);

before(async () => {
  server = await startServer({ users: kUsers });
  ({ api, send } = matrixApi(server));
  browser = await launchBrowser();
  for (const name of Object.keys(kUsers)) {
    people[name] = await signInThroughPage(browser, server, name, kUsers[name], {
      timeoutMs: kTimeoutMs,
    });
  }
});

after(async () => {
  for (const person of Object.values(people)) await person.context?.close();
  await browser?.close();
  await server?.stop();
});

describe('managing a room and jumping to unread', () => {
  let roomId;
  let lobbyId;
  let backlogId;

  step('alice creates a channel; bob joins it (and a lobby)', async () => {
    const alice = people.alice.page;
    await sidebar(alice).getByRole('button', { name: 'Create a channel' }).click();
    const dialog = alice.getByRole('dialog', { name: 'Create a channel' });
    await dialog.getByLabel('Name').fill(kFirstName);
    await dialog.getByRole('button', { name: 'Create' }).click();
    await roomHeading(alice, kFirstName).waitFor();
    // The room's ID, from the server's side.
    for (const id of await joinedRooms(people.alice.token)) {
      const name = await roomState(people.alice.token, id, 'm.room.name').catch(() => ({}));
      if (name.name === kFirstName) roomId = id;
    }
    assert.ok(roomId, 'the channel is among alice’s rooms');
    ({ room_id: lobbyId } = await api(people.alice.token, 'POST', '/createRoom', { name: kLobby }));
    for (const id of [roomId, lobbyId]) {
      await api(people.alice.token, 'POST', `/rooms/${encodeURIComponent(id)}/invite`, {
        user_id: people.bob.userId,
      });
      await api(people.bob.token, 'POST', `/rooms/${encodeURIComponent(id)}/join`, {});
    }
    await send(people.alice.token, roomId, { msgtype: 'm.text', body: 'Welcome to planning' });
    await openRoom(people.bob.page, kFirstName);
    await log(people.bob.page, kFirstName).getByText('Welcome to planning').waitFor();
  });

  step('alice renames the channel and gives it a topic, within the limits', async () => {
    const alice = people.alice.page;
    await openDetails(alice);
    const panel = details(alice);
    const name = panel.getByRole('textbox', { name: 'Name' });
    assert.equal(await name.inputValue(), kFirstName);
    // Too long: refused before anything is sent.
    await name.fill('x'.repeat(256));
    await panel.getByRole('button', { name: 'Save' }).click();
    await panel.getByText('The name is too long: 255 characters at most.').waitFor();
    assert.equal(await name.getAttribute('aria-invalid'), 'true');
    assert.equal((await roomState(people.alice.token, roomId, 'm.room.name')).name, kFirstName);

    await name.fill(kName);
    await panel.getByRole('textbox', { name: 'Topic' }).fill(kTopic);
    await panel.getByRole('button', { name: 'Save' }).click();
    await panel.getByRole('status').getByText('Saved.').waitFor();
    assert.equal((await roomState(people.alice.token, roomId, 'm.room.name')).name, kName);
    assert.equal((await roomState(people.alice.token, roomId, 'm.room.topic')).topic, kTopic);
    await roomHeading(alice, kName).waitFor();
    await alice.locator('.room__topic').getByText(kTopic).waitFor();
  });

  step('alice sets the channel’s picture; the header shows it', async () => {
    const alice = people.alice.page;
    const panel = details(alice);
    const [chooser] = await Promise.all([
      alice.waitForEvent('filechooser'),
      panel.getByRole('button', { name: 'Add a picture' }).click(),
    ]);
    await chooser.setFiles({ name: 'roadmap.png', mimeType: 'image/png', buffer: await makePng(alice) });
    await panel.getByText('Picture saved.').waitFor();
    const avatar = await roomState(people.alice.token, roomId, 'm.room.avatar');
    assert.match(avatar.url, /^mxc:\/\//);
    await panel.locator('.avatar--room img.avatar__image').waitFor();
    await alice.locator('.room__header img.avatar__image').waitFor();
    await panel.getByRole('button', { name: 'Change the picture' }).waitFor();
    assert.deepEqual(await axeViolations(alice, 'room details, editable', '.details-panel'), []);
  });

  step('a refusal by the server is shown', async () => {
    const alice = people.alice.page;
    const panel = details(alice);
    const refuse = (route) =>
      route.request().method() === 'PUT'
        ? route.fulfill({
            status: 403,
            contentType: 'application/json',
            body: JSON.stringify({ errcode: 'M_FORBIDDEN', error: kRefusal }),
          })
        : route.continue();
    await alice.route(/\/state\/m\.room\.topic/, refuse);
    try {
      await panel.getByRole('textbox', { name: 'Topic' }).fill('A new topic');
      await panel.getByRole('button', { name: 'Save' }).click();
      await panel
        .getByRole('alert')
        .getByText(`The server refused the change: ${kRefusal}`)
        .waitFor();
    } finally {
      await alice.unroute(/\/state\/m\.room\.topic/, refuse);
    }
    assert.equal((await roomState(people.alice.token, roomId, 'm.room.topic')).topic, kTopic);
  });

  step('alice, its only admin, is warned before leaving, and may stay', async () => {
    const alice = people.alice.page;
    const opener = details(alice).getByRole('button', { name: 'Leave this conversation…' });
    await opener.click();
    const dialog = alice.getByRole('dialog', { name: `Leave ${kName}?` });
    await dialog.waitFor();
    await dialog.getByText('You are the last admin here', { exact: false }).waitFor();
    await alice.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    // Escape closed the dialog only: the panel stays, and the focus is back on the opener.
    assert.ok(await details(alice).isVisible(), 'the details panel stays open');
    assert.ok(await opener.evaluate((el) => el === document.activeElement), 'focus back on Leave');
    assert.ok((await joinedRooms(people.alice.token)).includes(roomId));
  });

  step('bob sees the new name, topic and picture, and no way to change them', async () => {
    const bob = people.bob.page;
    const entry = sidebar(bob).getByRole('button', { name: new RegExp(`^${kName}`) });
    await entry.waitFor();
    await entry.locator('img.avatar__image').waitFor();
    assert.equal(await sidebar(bob).getByRole('button', { name: new RegExp(`^${kFirstName}`) }).count(), 0);
    await openRoom(bob, kName);
    await openDetails(bob);
    const panel = details(bob);
    await panel.getByText(kTopic).waitFor();
    await panel.locator('.avatar--room img.avatar__image').waitFor();
    assert.equal(await panel.getByRole('textbox').count(), 0, 'no field to edit');
    assert.equal(await panel.getByRole('button', { name: 'Save' }).count(), 0);
    assert.equal(await panel.getByRole('button', { name: /picture/ }).count(), 0);
    assert.deepEqual(await axeViolations(bob, 'room details, read-only', '.details-panel'), []);
  });

  step('bob leaves after confirming: the channel is gone, the lobby opens', async () => {
    const bob = people.bob.page;
    await details(bob).getByRole('button', { name: 'Leave this conversation…' }).click();
    const dialog = bob.getByRole('dialog', { name: `Leave ${kName}?` });
    await dialog.waitFor();
    assert.equal(await dialog.getByText('You are the last admin here', { exact: false }).count(), 0);
    await dialog.getByRole('button', { name: 'Leave', exact: true }).click();
    await roomHeading(bob, kLobby).waitFor();
    await sidebar(bob).getByRole('button', { name: new RegExp(`^${kName}`) }).waitFor({ state: 'detached' });
    const joined = await joinedRooms(people.bob.token);
    assert.ok(!joined.includes(roomId), 'the server has bob out of the channel');
    assert.ok(joined.includes(lobbyId));
  });

  step('alice leaves a team from its sidebar', async () => {
    const alice = people.alice.page;
    const { room_id: teamId } = await api(people.alice.token, 'POST', '/createRoom', {
      name: 'Outreach',
      creation_content: { type: 'm.space' },
    });
    const rail = alice.getByRole('button', { name: /^Outreach/ });
    await rail.click();
    await sidebar(alice).getByRole('button', { name: 'Leave team Outreach' }).click();
    const dialog = alice.getByRole('dialog', { name: 'Leave the team Outreach?' });
    await dialog.waitFor();
    // Nobody else is in it: no warning about its last admin.
    assert.equal(await dialog.getByText('You are the last admin here', { exact: false }).count(), 0);
    await dialog.getByRole('button', { name: 'Leave', exact: true }).click();
    await rail.waitFor({ state: 'detached' });
    assert.ok(!(await joinedRooms(people.alice.token)).includes(teamId), 'the server has alice out');
    await sidebar(alice).getByText('localhost').waitFor(); // Home's lists again
  });

  step('after 60 messages while bob was away, he jumps to the first unread one', async () => {
    const bob = people.bob.page;
    ({ room_id: backlogId } = await api(people.alice.token, 'POST', '/createRoom', {
      name: kBacklog,
      invite: [people.bob.userId],
    }));
    await api(people.bob.token, 'POST', `/rooms/${encodeURIComponent(backlogId)}/join`, {});
    await send(people.alice.token, backlogId, { msgtype: 'm.text', body: 'Already read by bob' });
    const receipt = bob.waitForRequest((r) => r.url().includes(`/rooms/${encodeURIComponent(backlogId)}/receipt/`));
    await openRoom(bob, kBacklog);
    await log(bob, kBacklog).getByText('Already read by bob').waitFor();
    await (await receipt).response();
    await openRoom(bob, kLobby);

    for (let i = 1; i <= kBacklogCount; i++) {
      await send(people.alice.token, backlogId, { msgtype: 'm.text', body: `Backlog message ${i}` });
    }
    // Away: the page is loaded again, so only the newest messages come with the first /sync.
    await bob.reload();
    await bob.getByRole('heading', { name: 'Welcome, bob!' }).waitFor();
    const pages = [];
    bob.on('request', (r) => r.url().includes('/messages?') && pages.push(r.url()));
    await openRoom(bob, kBacklog);
    const timeline = log(bob, kBacklog);
    await timeline.getByText(`Backlog message ${kBacklogCount}`, { exact: true }).waitFor();
    assert.ok(await within(timeline.getByText(`Backlog message ${kBacklogCount}`, { exact: true }), timeline));
    const jump = jumpButton(bob);
    await jump.waitFor();
    const before = pages.length;
    await jump.click();
    const first = timeline.getByText('Backlog message 1', { exact: true });
    await first.waitFor();
    assert.ok(pages.length > before, 'older messages were fetched on the way');
    const divider = timeline.getByRole('separator');
    await divider.getByText('New messages').waitFor();
    assert.ok(await within(divider, timeline), 'the divider is in view');
    assert.ok(await within(first, timeline), 'the first unread message is in view');
    assert.ok(
      await first.evaluate((el) => el.closest('li.message')?.contains(document.activeElement)),
      'the keyboard focus is on the first unread message',
    );
    await jump.waitFor({ state: 'detached' });
  });

  step('"Mark as read" dismisses the jump', async () => {
    const bob = people.bob.page;
    await openRoom(bob, kLobby);
    for (let i = 1; i <= 40; i++) {
      await send(people.alice.token, backlogId, { msgtype: 'm.text', body: `Second batch ${i}` });
    }
    await sidebar(bob).getByRole('button', { name: new RegExp(`^${kBacklog}, \\d+ unread`) }).waitFor();
    await openRoom(bob, kBacklog);
    await log(bob, kBacklog).getByText('Second batch 40', { exact: true }).waitFor();
    await jumpButton(bob).waitFor();
    const dismiss = bob.getByRole('button', { name: 'Mark as read' });
    await dismiss.focus();
    await bob.keyboard.press('Enter');
    await jumpButton(bob).waitFor({ state: 'detached' });
    assert.ok(await bob.getByLabel(`Message ${kBacklog}`, { exact: true }).evaluate((el) => el === document.activeElement));
    assert.ok(await within(log(bob, kBacklog).getByText('Second batch 40', { exact: true }), log(bob, kBacklog)));
  });
});
