// Files, search and direct messages in two browsers against the real binary: alice shares a
// picture (with its progress bar, then a cancelled upload), a dropped file and a pasted one; bob
// sees the picture's thumbnail, opens it full size, downloads the file byte for byte and finds
// all three in the room's details. Then a message sent long before is found by the search box
// and jumped to, and bob starts a direct chat with alice from the user directory.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe } from 'node:test';
import { launchBrowser, screenshot, visibleRawKeys } from './lib/browser.mjs';
import { matrixApi, signInThroughPage, storyStep } from './lib/chat_session.mjs';
import { startServer } from './lib/ruche_server.mjs';

const kUsers = { alice: 'alice password 1', bob: 'bob password 1' };
const kTimeoutMs = 15_000;
const kChannel = 'files-chat';
const kTopic = 'Where the files go';
const kUploadPath = /\/_matrix\/media\/v3\/upload(\?|$)/;
// A text file with bytes that survive no accidental re-encoding (NUL, high bytes, CRLF).
const kNotes = Buffer.concat([
  Buffer.from('Meeting notes\r\n\u00e9t\u00e9 \u2603\n', 'utf8'),
  Buffer.from([0, 1, 2, 254, 255]),
]);

let server;
let browser;
const people = {}; // name → { context, page, problems, token, userId }

let api;
let send;

/** The newest m.room.message events of a room, newest first. */
async function recentMessages(token, roomId, limit = 50) {
  const answer = await api(token, 'GET', `/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=${limit}`);
  return answer.chunk.filter((event) => event.type === 'm.room.message');
}

/** The bytes at an mxc:// URI, through the authenticated media API. */
async function mediaBytes(token, mxc) {
  const [, serverName, mediaId] = /^mxc:\/\/([^/]+)\/(.+)$/.exec(mxc);
  const response = await fetch(`${server.url}/_matrix/client/v1/media/download/${serverName}/${mediaId}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal(response.status, 200, `download of ${mxc}`);
  return Buffer.from(await response.arrayBuffer());
}

/** Signs `name` in through the login page; `requests` records what the page fetched. */
async function signedIn(name) {
  const requests = [];
  const person = await signInThroughPage(browser, server, name, kUsers[name], {
    timeoutMs: kTimeoutMs,
    onPage: (page) =>
      page.on('request', (request) => requests.push({ url: request.url(), headers: request.headers() })),
  });
  return { ...person, requests };
}

const sidebar = (page) => page.getByRole('navigation', { name: 'Conversations' });
const log = (page, room = kChannel) => page.getByRole('log', { name: `Messages in ${room}` });
const composer = (page, room = kChannel) => page.getByLabel(`Message ${room}`, { exact: true });
const uploads = (page) => page.getByRole('list', { name: 'Files being uploaded' });
/** The timeline row of the message whose text contains `text`. */
const messageRow = (scope, text) => scope.locator('li.message').filter({ hasText: text });
/** The timeline row of the picture named `name` (a picture shows no text, only its button). */
const imageRow = (scope, name) =>
  scope.locator('li.message').filter({ has: scope.page().getByRole('button', { name: `Open the image ${name}` }) });

/** Opens the channel from the sidebar unless it is already open. */
async function openRoom(page, name = kChannel) {
  const heading = page.getByRole('heading', { name: `# ${name}`, level: 1 });
  if (await heading.isVisible()) return;
  await sidebar(page).getByRole('button', { name: new RegExp(`^${name}`) }).click();
  await heading.waitFor();
}

const step = storyStep(people);

/** A PNG drawn on a canvas in `page` (large enough that the client adds a thumbnail). */
async function makePng(page, width, height) {
  const bytes = await page.evaluate(
    async ({ width, height }) => {
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      const g = canvas.getContext('2d');
      g.fillStyle = '#f5a524';
      g.fillRect(0, 0, width, height);
      g.fillStyle = '#1d2126';
      g.fillRect(width / 4, height / 4, width / 2, height / 2);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
      return [...new Uint8Array(await blob.arrayBuffer())];
    },
    { width, height },
  );
  return Buffer.from(bytes);
}

/** Chooses `file` through the composer's "Attach files" button and the browser's file picker. */
async function attach(page, file) {
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByRole('button', { name: 'Attach files' }).click(),
  ]);
  await chooser.setFiles(file);
}

/** Holds every upload of `page` until the returned function is called. */
async function holdUploads(page) {
  let release;
  const held = new Promise((resolve) => (release = resolve));
  const handler = async (route) => {
    await held;
    await route.continue().catch(() => undefined); // cancelled meanwhile: nothing to continue
  };
  await page.route(kUploadPath, handler);
  return async () => {
    release();
    await page.unroute(kUploadPath, handler);
  };
}

before(async () => {
  server = await startServer({ users: kUsers });
  ({ api, send } = matrixApi(server));
  browser = await launchBrowser();
  people.alice = await signedIn('alice');
  people.bob = await signedIn('bob');
});

after(async () => {
  for (const person of Object.values(people)) await person.context?.close();
  await browser?.close();
  await server?.stop();
});

describe('files, search and direct messages', () => {
  let roomId;
  let png;

  step('alice and bob are in a channel', async () => {
    ({ room_id: roomId } = await api(people.alice.token, 'POST', '/createRoom', {
      name: kChannel,
      topic: kTopic,
      invite: [people.bob.userId],
    }));
    await api(people.bob.token, 'POST', `/rooms/${encodeURIComponent(roomId)}/join`, {});
    await send(people.alice.token, roomId, { msgtype: 'm.text', body: 'Files go here' });
    for (const name of ['alice', 'bob']) {
      await openRoom(people[name].page);
      await log(people[name].page).getByText('Files go here').waitFor();
    }
  });

  step('alice attaches a picture and sees its upload progress', async () => {
    const alice = people.alice.page;
    png = await makePng(alice, 1200, 900);
    const release = await holdUploads(alice);
    await attach(alice, { name: 'sunrise-photo.png', mimeType: 'image/png', buffer: png });
    const bar = uploads(alice).getByRole('progressbar', { name: 'Uploading sunrise-photo.png' });
    await bar.waitFor();
    const now = Number(await bar.getAttribute('aria-valuenow'));
    assert.ok(now >= 0 && now < 100, `aria-valuenow ${now} while the upload is held`);
    assert.equal(await bar.getAttribute('aria-valuemax'), '100');
    await uploads(alice).getByText('sunrise-photo.png').waitFor();
    await screenshot(alice, 'chat-files-uploading.png');
    await release();
    await bar.waitFor({ state: 'detached' });
    await imageRow(log(alice), 'sunrise-photo.png').locator('img.media__thumbnail').waitFor();

    // The message says what a client needs to lay the picture out before loading it.
    const [event] = await recentMessages(people.alice.token, roomId, 5);
    assert.equal(event.content.msgtype, 'm.image');
    assert.equal(event.content.body, 'sunrise-photo.png');
    assert.match(event.content.url, /^mxc:\/\/localhost\//);
    assert.equal(event.content.info.w, 1200);
    assert.equal(event.content.info.h, 900);
    assert.equal(event.content.info.mimetype, 'image/png');
    assert.equal(event.content.info.size, png.length);
    // Larger than 800 px: a thumbnail of its own, 800 wide.
    assert.match(event.content.info.thumbnail_url, /^mxc:\/\/localhost\//);
    assert.equal(event.content.info.thumbnail_info.w, 800);
    assert.equal(event.content.info.thumbnail_info.h, 600);
    assert.deepEqual(await mediaBytes(people.alice.token, event.content.url), png);
  });

  step('bob sees the thumbnail and opens the picture in a lightbox', async () => {
    const bob = people.bob.page;
    const row = imageRow(log(bob), 'sunrise-photo.png');
    const thumb = row.locator('img.media__thumbnail');
    await thumb.waitFor();
    assert.match(await thumb.getAttribute('src'), /^blob:/);
    const size = await thumb.evaluate(async (img) => {
      await img.decode();
      return { w: img.naturalWidth, h: img.naturalHeight };
    });
    assert.ok(size.w > 0 && size.h > 0, `thumbnail ${size.w}×${size.h}`);
    assert.ok(size.w <= 640, `a thumbnail, not the ${size.w} px original`);
    // Authenticated media: fetched with the access token, from the v1 thumbnail endpoint.
    const fetched = people.bob.requests.filter((r) => r.url.includes('/_matrix/client/v1/media/thumbnail/'));
    assert.ok(fetched.length > 0, 'no thumbnail request');
    assert.ok(fetched.every((r) => r.headers.authorization === `Bearer ${people.bob.token}`));

    const open = row.getByRole('button', { name: 'Open the image sunrise-photo.png' });
    await open.click();
    const lightbox = bob.getByRole('dialog', { name: /sunrise-photo\.png/ });
    await lightbox.waitFor();
    await lightbox.getByText('Shared by alice').waitFor();
    const full = lightbox.getByRole('img', { name: 'sunrise-photo.png' });
    await full.waitFor();
    const fullWidth = await full.evaluate(async (img) => {
      await img.decode();
      return img.naturalWidth;
    });
    assert.equal(fullWidth, 1200, 'the lightbox shows the original');
    await screenshot(bob, 'chat-files-lightbox.png');
    await bob.keyboard.press('Escape');
    await lightbox.waitFor({ state: 'detached' });
    assert.equal(
      await bob.evaluate(() => document.activeElement?.getAttribute('aria-label')),
      'Open the image sunrise-photo.png',
      'focus goes back to the thumbnail',
    );
  });

  step('alice cancels an upload and nothing is sent', async () => {
    const alice = people.alice.page;
    const problemsBefore = people.alice.problems.length;
    const release = await holdUploads(alice);
    await attach(alice, { name: 'cancelled-upload.txt', mimeType: 'text/plain', buffer: Buffer.from('never sent') });
    await uploads(alice).getByRole('progressbar', { name: 'Uploading cancelled-upload.txt' }).waitFor();
    const aborted = alice.waitForEvent('requestfailed', (request) => kUploadPath.test(request.url()));
    await uploads(alice).getByRole('button', { name: 'Cancel the upload of cancelled-upload.txt' }).click();
    await uploads(alice).waitFor({ state: 'detached' });
    assert.equal((await aborted).failure()?.errorText, 'net::ERR_ABORTED', 'the request was cancelled');
    await release();
    // The aborted request is the cancel working, not a page problem.
    const during = people.alice.problems.splice(problemsBefore);
    assert.deepEqual(
      during.filter((text) => !(kUploadPath.test(text) && text.includes('net::ERR_ABORTED'))),
      [],
    );
  });

  step('a file dropped onto the room is shared, and bob downloads it byte for byte', async () => {
    const alice = people.alice.page;
    const bob = people.bob.page;
    const dataTransfer = await alice.evaluateHandle((bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], 'meeting-notes.txt', { type: 'text/plain' }));
      return transfer;
    }, [...kNotes]);
    const room = alice.locator('.room__main');
    await room.dispatchEvent('dragenter', { dataTransfer });
    await alice.getByText(`Drop files to share them in ${kChannel}`).waitFor();
    await room.dispatchEvent('dragover', { dataTransfer });
    await room.dispatchEvent('drop', { dataTransfer });
    await alice.getByText(`Drop files to share them in ${kChannel}`).waitFor({ state: 'detached' });

    const row = messageRow(log(bob), 'meeting-notes.txt');
    await row.waitFor();
    await row.getByText(/^\d+ bytes$/).waitFor();
    assert.equal(await row.getByText(`${kNotes.length} bytes`).count(), 1);
    const [download] = await Promise.all([
      bob.waitForEvent('download'),
      row.getByRole('button', { name: 'Download meeting-notes.txt' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'meeting-notes.txt');
    const saved = await readFile(await download.path());
    assert.deepEqual(saved, kNotes, 'the downloaded bytes are the dropped ones');

    const [event] = await recentMessages(people.bob.token, roomId, 5);
    assert.equal(event.content.msgtype, 'm.file');
    assert.equal(event.content.body, 'meeting-notes.txt');
    assert.equal(event.content.info.size, kNotes.length);
    assert.equal(event.content.info.mimetype, 'text/plain');
    assert.deepEqual(await mediaBytes(people.bob.token, event.content.url), saved);
  });

  step('a file pasted into the composer is shared', async () => {
    const alice = people.alice.page;
    const bob = people.bob.page;
    await composer(alice).evaluate((el) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['pasted text'], 'pasted-text.txt', { type: 'text/plain' }));
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    });
    await messageRow(log(bob), 'pasted-text.txt').getByRole('button', { name: 'Download pasted-text.txt' }).waitFor();
    assert.equal(await composer(alice).inputValue(), '', 'the file did not land in the text');
    // Sent after the cancelled upload: had that one gone out, it would be here by now.
    const bodies = (await recentMessages(people.alice.token, roomId)).map((event) => event.content.body);
    assert.ok(bodies.includes('pasted-text.txt'));
    assert.ok(!bodies.includes('cancelled-upload.txt'), 'the cancelled upload was sent');
    assert.equal(await log(bob).getByText('cancelled-upload.txt').count(), 0);
  });

  step("the room's details list its members with their roles and its files", async () => {
    const bob = people.bob.page;
    await bob.getByRole('button', { name: 'Details' }).click();
    const panel = bob.getByRole('complementary', { name: 'Details' });
    await panel.waitFor();
    await panel.getByText(kTopic).waitFor();
    const members = panel.getByRole('region', { name: '2 members' });
    await members.waitFor();
    await members.locator('li.member').filter({ hasText: 'alice' }).getByText('Admin').waitFor();
    await members.locator('li.member').filter({ hasText: 'bob' }).getByText('Member').waitFor();
    const files = panel.getByRole('list', { name: 'Files' });
    await files.getByText('sunrise-photo.png').waitFor();
    const names = await files.locator('.file-card__name').allTextContents();
    assert.deepEqual(names, ['pasted-text.txt', 'meeting-notes.txt', 'sunrise-photo.png'], 'newest first');
    await files.getByRole('button', { name: 'Download meeting-notes.txt' }).waitFor();
    await screenshot(bob, 'chat-files-details.png');
    await panel.getByRole('button', { name: 'Close the details' }).click();
    await panel.waitFor({ state: 'detached' });
  });

  step('search finds a message sent long before and jumps to it', async () => {
    const bob = people.bob.page;
    const kNeedle = 'The marmot whistles at dawn';
    await send(people.alice.token, roomId, { msgtype: 'm.text', body: kNeedle });
    const kFillers = 80;
    for (let i = 0; i < kFillers; i++) {
      await send(people.alice.token, roomId, { msgtype: 'm.text', body: `filler message ${i}` });
    }
    // A fresh start: bob's client loads only the latest messages, so the one searched for is
    // not among them and must be fetched around (/context).
    const problemsBefore = people.bob.problems.length;
    await bob.reload();
    await openRoom(bob);
    // Requests the reload cut short are not page problems.
    const cut = people.bob.problems.splice(problemsBefore);
    assert.deepEqual(cut.filter((text) => !/\/_matrix\/client\/.* net::ERR_ABORTED$/.test(text)), []);
    const timeline = log(bob);
    await timeline.getByText(`filler message ${kFillers - 1}`, { exact: true }).waitFor();
    assert.equal(await timeline.getByText(kNeedle).count(), 0, 'the message is not loaded yet');

    const search = bob.getByRole('searchbox', { name: 'Search messages' });
    await search.fill('marmot');
    await search.press('Enter');
    const results = bob.getByRole('region', { name: 'Search results' });
    await results.getByText('1 message found for “marmot”').waitFor();
    const group = results.getByRole('region', { name: kChannel });
    await group.getByRole('heading', { name: `# ${kChannel}` }).waitFor();
    const result = group.getByRole('button', { name: /marmot/ });
    assert.equal(await result.locator('mark').textContent(), 'marmot');
    await result.getByText('alice', { exact: true }).waitFor();
    await result.locator('time').waitFor();
    await screenshot(bob, 'chat-files-search-results.png');

    await result.click();
    await results.waitFor({ state: 'detached' });
    const row = bob.locator('li.message.message--highlighted').filter({ hasText: kNeedle });
    await row.waitFor();
    const rowBox = await row.boundingBox();
    const viewBox = await log(bob).boundingBox();
    assert.ok(
      rowBox.y >= viewBox.y && rowBox.y + rowBox.height <= viewBox.y + viewBox.height,
      `the message is scrolled into view (${JSON.stringify({ rowBox, viewBox })})`,
    );
    assert.ok(
      people.bob.requests.some((r) => r.url.includes(`/rooms/${encodeURIComponent(roomId)}/context/`)),
      'the message was loaded with /context',
    );
    await screenshot(bob, 'chat-files-search-jump.png');
    // Briefly: the highlight fades.
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    await log(bob).getByText(kNeedle).waitFor();

    await bob.getByRole('button', { name: 'Jump to the latest messages' }).click();
    await log(bob).getByText(`filler message ${kFillers - 1}`, { exact: true }).waitFor();
    assert.equal(await bob.getByRole('button', { name: 'Jump to the latest messages' }).count(), 0);

    // alice never reloaded: the 80 messages came down /sync in bursts, some limited (the SDK
    // then starts the timeline afresh). Paging back must still give every one once, in order.
    const alice = people.alice.page;
    const aliceLog = log(alice);
    await aliceLog.getByText(`filler message ${kFillers - 1}`, { exact: true }).waitFor();
    for (let i = 0; i < 40 && !(await aliceLog.getByText(kNeedle).count()); i++) {
      await aliceLog.evaluate((el) => (el.scrollTop = 0));
      await alice.waitForTimeout(250);
    }
    const bodies = await aliceLog.locator('.message__body').allTextContents();
    const fillers = bodies.slice(bodies.indexOf(kNeedle) + 1);
    assert.deepEqual(fillers, Array.from({ length: kFillers }, (_, i) => `filler message ${i}`));
    // Her search jumps within what is loaded.
    const aliceSearch = alice.getByRole('searchbox', { name: 'Search messages' });
    await aliceSearch.fill('whistles');
    await aliceSearch.press('Enter');
    await alice.getByRole('region', { name: 'Search results' }).getByRole('button', { name: /whistles/ }).click();
    await alice.locator('li.message.message--highlighted').filter({ hasText: kNeedle }).waitFor();
  });

  step('bob starts a direct chat with alice from the directory, and alice gets it', async () => {
    const bob = people.bob.page;
    const alice = people.alice.page;
    await bob.getByRole('button', { name: 'New message' }).click();
    const dialog = bob.getByRole('dialog', { name: 'New message' });
    await dialog.waitFor();
    assert.equal(await bob.evaluate(() => document.activeElement?.id), 'new-dm-search');
    await dialog.getByLabel('Name or user ID').fill('zzz');
    await dialog.getByText('No one found for “zzz”.').waitFor();
    await dialog.getByLabel('Name or user ID').fill('ali');
    const found = dialog.getByRole('list', { name: 'People' });
    await found.getByText(people.alice.userId).waitFor();
    await screenshot(bob, 'chat-files-new-message.png');
    // The directory leaves the searcher out.
    await dialog.getByLabel('Name or user ID').fill('localhost');
    await found.getByText(people.alice.userId).waitFor();
    assert.equal(await found.getByText(people.bob.userId).count(), 0);
    await found.getByRole('button', { name: 'Message alice' }).click();
    await dialog.waitFor({ state: 'detached' });

    await bob.getByRole('heading', { name: 'alice', exact: true, level: 1 }).waitFor();
    await sidebar(bob).getByRole('region', { name: 'Direct messages' }).getByRole('button', { name: 'alice' }).waitFor();
    await composer(bob, 'alice').fill('Hi Alice, a private word');
    await composer(bob, 'alice').press('Enter');
    await log(bob, 'alice').getByText('Hi Alice, a private word').waitFor();

    // The room is a direct chat for both: is_direct on alice's invitation, m.direct for bob.
    const direct = await api(people.bob.token, 'GET', `/user/${encodeURIComponent(people.bob.userId)}/account_data/m.direct`);
    const dmId = direct[people.alice.userId]?.[0];
    assert.ok(dmId, JSON.stringify(direct));

    await sidebar(alice).getByRole('button', { name: 'Join bob' }).click();
    await alice.getByRole('heading', { name: 'bob', exact: true, level: 1 }).waitFor();
    await log(alice, 'bob').getByText('Hi Alice, a private word').waitFor();
    await sidebar(alice).getByRole('region', { name: 'Direct messages' }).getByRole('button', { name: 'bob' }).waitFor();

    // "New message" to alice again reopens the same room.
    const { joined_rooms: before } = await api(people.bob.token, 'GET', '/joined_rooms');
    await sidebar(bob).getByRole('button', { name: new RegExp(`^${kChannel}`) }).click();
    await bob.getByRole('heading', { name: `# ${kChannel}`, level: 1 }).waitFor();
    await bob.getByRole('button', { name: 'New message' }).click();
    await dialog.getByLabel('Name or user ID').fill('alice');
    await found.getByRole('button', { name: 'Message alice' }).click();
    await bob.getByRole('heading', { name: 'alice', exact: true, level: 1 }).waitFor();
    await log(bob, 'alice').getByText('Hi Alice, a private word').waitFor();
    const { joined_rooms: afterRooms } = await api(people.bob.token, 'GET', '/joined_rooms');
    assert.deepEqual(afterRooms.sort(), before.sort());
    assert.ok(afterRooms.includes(dmId));
  });

  step('speaks French and Spanish', async () => {
    const bob = people.bob.page;
    await openRoom(bob);
    await bob.getByLabel('Language').selectOption({ label: 'Français' });
    await bob.getByRole('button', { name: 'Joindre des fichiers' }).waitFor();
    await bob.getByRole('searchbox', { name: 'Rechercher dans les messages' }).waitFor();
    await bob.getByRole('button', { name: 'Nouveau message' }).waitFor();
    await bob.getByRole('button', { name: 'Détails' }).click();
    const panel = bob.getByRole('complementary', { name: 'Détails' });
    await panel.getByRole('region', { name: '2 membres' }).waitFor();
    await panel.getByText('Administrateur').waitFor();
    assert.deepEqual(await visibleRawKeys(bob), []);
    await bob.getByLabel('Langue').selectOption({ label: 'Español' });
    await bob.getByRole('complementary', { name: 'Detalles' }).getByText('Miembro', { exact: true }).waitFor();
    await bob.getByRole('button', { name: 'Adjuntar archivos' }).waitFor();
    assert.deepEqual(await visibleRawKeys(bob), []);
    await bob.getByLabel('Idioma').selectOption({ label: 'English' });
    await bob.getByRole('button', { name: 'Close the details' }).click();
  });

  step('shows no untranslated keys and logged no console errors or CSP violations', async () => {
    for (const [name, person] of Object.entries(people)) {
      assert.deepEqual(await visibleRawKeys(person.page), [], `${name}: raw i18n keys`);
      assert.deepEqual(person.problems, [], `${name}: page problems`);
    }
  });
});
