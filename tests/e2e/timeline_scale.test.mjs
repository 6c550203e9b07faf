// A room of 10,000 messages (and a few pictures) in the browser: the timeline keeps only the
// rows near the view in the DOM while bob pages back through the whole history to the room's
// creation, each page of older messages landing without moving what he looks at; then the
// middle of the history, and back to the latest with the keyboard, where a new message keeps
// the view pinned to the bottom. At every step: fewer than kMaxMessageRows message rows in the
// DOM, in the order the server keeps them, none missing between the first and the last.
import assert from 'node:assert/strict';
import { deflateSync, crc32 } from 'node:zlib';
import { after, before, describe } from 'node:test';
import { launchBrowser } from './lib/browser.mjs';
import { matrixApi, signInThroughPage, storyStep } from './lib/chat_session.mjs';
import { serverApi, startServer } from './lib/ruche_server.mjs';

const kUsers = { alice: 'alice password 1', bob: 'bob password 1' };
const kRoom = 'archive';
const kCount = 10_000;
const kBatch = 100; // sends in flight at once while seeding
const kPictureAt = new Set([40, 5_000, 9_990]); // messages sent as pictures instead of text
const kMaxMessageRows = 200;
const kTimeoutMs = 20_000;

let server;
let browser;
const people = {}; // name → { context, page, problems, token, userId }
const step = storyStep(people);
let api;
let send;
let roomId;
/** Event IDs of the room's m.room.message events, oldest first, as the server orders them. */
let order = [];
let place; // event ID → index in `order`
let bodies; // event ID → body

const sidebar = (page) => page.getByRole('navigation', { name: 'Conversations' });
const log = (page) => page.getByRole('log', { name: `Messages in ${kRoom}` });

/** A width × height PNG of one colour, made here (no canvas in node). */
function png(width, height) {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const line = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) line.set([40, 120, 200], 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: height }, () => line));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

async function login(name) {
  const answer = await serverApi(server, 'POST', '/_matrix/client/v3/login', {
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: name }, password: kUsers[name] },
  });
  return answer.access_token;
}

/** Message i: text (every 10th long enough to wrap, some from bob), or a picture. */
async function sendMessage(tokens, i, picture) {
  const token = i % 37 === 0 ? tokens.bob : tokens.alice;
  if (!kPictureAt.has(i)) {
    const body = i % 10 === 0 ? `message ${i} ${'and some more words '.repeat(12)}` : `message ${i}`;
    return send(token, roomId, { msgtype: 'm.text', body });
  }
  return send(token, roomId, {
    msgtype: 'm.image',
    body: `picture-${i}.png`,
    url: picture.url,
    info: { w: 800, h: 600, mimetype: 'image/png', size: picture.size },
  });
}

/** The room's messages in the server's order (oldest first), paged back with /messages. */
async function serverOrder(token) {
  const events = [];
  let from = '';
  for (;;) {
    const query = `dir=b&limit=1000${from ? `&from=${encodeURIComponent(from)}` : ''}`;
    const page = await api(token, 'GET', `/rooms/${encodeURIComponent(roomId)}/messages?${query}`);
    events.push(...page.chunk);
    if (!page.end || !page.chunk.length) break;
    from = page.end;
  }
  return events.filter((event) => event.type === 'm.room.message').reverse();
}

/**
 * What the timeline holds now: its message rows' places in `order` (top to bottom), the message
 * rows fully or partly in view, and where the view is.
 */
async function snapshot(page) {
  const seen = await log(page).evaluate((el) => {
    const box = el.getBoundingClientRect();
    const rows = [...el.querySelectorAll('ol.timeline__list > li.message')];
    return {
      ids: rows.map((row) => row.dataset.eventId),
      visible: rows
        .filter((row) => {
          const r = row.getBoundingClientRect();
          return r.bottom > box.top && r.top < box.bottom;
        })
        .map((row) => row.dataset.eventId),
      setsize: rows.at(-1)?.getAttribute('aria-setsize') ?? null,
      fromBottom: el.scrollHeight - el.scrollTop - el.clientHeight,
    };
  });
  return { ...seen, places: seen.ids.map((id) => place.get(id)) };
}

/** The checks that hold at every step: few rows, in order, none missing, some in view. */
function checkRows(shot, where) {
  assert.ok(shot.ids.length > 0, `${where}: message rows are rendered`);
  assert.ok(
    shot.ids.length < kMaxMessageRows,
    `${where}: ${shot.ids.length} message rows in the DOM (bound ${kMaxMessageRows})`,
  );
  assert.ok(shot.places.every((p) => p !== undefined), `${where}: every row is a message of the room`);
  for (let i = 1; i < shot.places.length; i++) {
    assert.equal(
      shot.places[i],
      shot.places[i - 1] + 1,
      `${where}: message ${shot.places[i - 1]} is followed by ${shot.places[i - 1] + 1}, not ${shot.places[i]}`,
    );
  }
  assert.ok(shot.visible.length > 0, `${where}: the view shows messages, not a gap`);
}

/**
 * The message row `id`, else the first one whose top is in view: its ID and its distance from
 * the top of the view (null: not rendered).
 */
function rowInView(page, id = null) {
  return log(page).evaluate(async (el, wanted) => {
    // As painted: after the next frame's layout and resize observers, which correct the scroll
    // position when a row changed size (a picture loaded).
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
    const top = el.getBoundingClientRect().top;
    for (const row of el.querySelectorAll('ol.timeline__list > li.message')) {
      const r = row.getBoundingClientRect();
      if (wanted ? row.dataset.eventId === wanted : r.top >= top) {
        return { id: row.dataset.eventId, offset: r.top - top };
      }
    }
    return null;
  }, id);
}

before(async () => {
  server = await startServer({ users: kUsers });
  ({ api, send } = matrixApi(server));
  const tokens = { alice: await login('alice'), bob: await login('bob') };
  ({ room_id: roomId } = await api(tokens.alice, 'POST', '/createRoom', { name: kRoom }));
  await api(tokens.alice, 'POST', `/rooms/${encodeURIComponent(roomId)}/invite`, {
    user_id: '@bob:localhost',
  });
  await api(tokens.bob, 'POST', `/rooms/${encodeURIComponent(roomId)}/join`, {});
  const image = png(800, 600);
  const upload = await fetch(`${server.url}/_matrix/media/v3/upload?filename=picture.png`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${tokens.alice}`, 'Content-Type': 'image/png' },
    body: image,
  });
  assert.equal(upload.status, 200, 'picture uploaded');
  const picture = { url: (await upload.json()).content_uri, size: image.length };
  // In parallel batches: within a batch the server picks the order, so the test reads the
  // order back rather than assuming it.
  for (let i = 0; i < kCount; i += kBatch) {
    const batch = [];
    for (let j = i; j < Math.min(kCount, i + kBatch); j++) batch.push(sendMessage(tokens, j, picture));
    await Promise.all(batch);
  }
  const events = await serverOrder(tokens.alice);
  assert.equal(events.length, kCount, 'every message is in the room');
  order = events.map((event) => event.event_id);
  place = new Map(order.map((id, i) => [id, i]));
  bodies = new Map(events.map((event) => [event.event_id, event.content.body]));

  browser = await launchBrowser();
  people.bob = await signInThroughPage(browser, server, 'bob', kUsers.bob, { timeoutMs: kTimeoutMs });
  people.alice = { token: tokens.alice };
});

after(async () => {
  await people.bob?.context?.close();
  await browser?.close();
  await server?.stop();
});

describe('a room of 10,000 messages', () => {
  step('opens at the latest messages with few rows in the DOM', async () => {
    const { page } = people.bob;
    await sidebar(page).getByRole('button', { name: new RegExp(`^${kRoom}`) }).click();
    const latest = bodies.get(order.at(-1));
    await log(page).getByText(latest, { exact: true }).waitFor();
    const shot = await snapshot(page);
    checkRows(shot, 'opened');
    assert.equal(shot.places.at(-1), kCount - 1, 'the last row is the latest message');
    assert.ok(shot.visible.includes(order.at(-1)), 'the latest message is in view');
    assert.ok(shot.fromBottom < 2, `scrolled to the bottom (${shot.fromBottom}px above it)`);
  });

  step('pages back to the very first message, the view still at each page', async () => {
    const { page } = people.bob;
    const timeline = log(page);
    // Each page of history is held until the test has noted what the view shows, so that the
    // check "the same message at the same place once the page is in" has something to compare.
    const held = [];
    const messagesPath = `/rooms/${encodeURIComponent(roomId)}/messages`;
    let asked = 0; // /messages requests the client made, for the failure message
    await page.route((url) => url.pathname.endsWith(messagesPath), (route) => {
      asked++;
      held.push(route);
    });
    let pages = 0;
    let lowest = (await snapshot(page)).places[0];
    try {
      while (!(await timeline.getByText('This is the start of the conversation.').count())) {
        assert.ok(pages < kCount / 10, `reached the start within ${pages} pages`);
        await timeline.evaluate((el) => (el.scrollTop = 0));
        // Either a page is asked for, or the start is reached (the fetch answered "no more").
        await waitUntil(() => held.length > 0 || timelineAtStart(timeline));
        if (!held.length) break;
        const before = await rowInView(page);
        assert.ok(before, `page ${pages + 1}: a message starts in view`);
        held.shift().continue();
        pages++;
        await waitUntil(async () => {
          // The client may drop the page it asked for (a limited /sync replaced the live
          // timeline meanwhile: chat_client.ts pageBack) and ask again: what it asks for after
          // the released page goes through, or holding it would be the stall.
          while (held.length) held.shift().continue();
          return (await snapshot(page)).places[0] < lowest || timelineAtStart(timeline);
        }).catch((e) => {
          throw new Error(`page ${pages}: ${asked} requests made, lowest row ${lowest}: ${e.message}`);
        });
        const shot = await snapshot(page);
        checkRows(shot, `page ${pages}`);
        lowest = Math.min(lowest, shot.places[0]);
        const after = await rowInView(page, before.id);
        assert.ok(after, `page ${pages}: the message that was at the top of the view is still rendered`);
        assert.ok(
          Math.abs(after.offset - before.offset) <= 2,
          `page ${pages}: it did not move (${before.offset} → ${after.offset} px)`,
        );
      }
    } finally {
      await page.unroute((url) => url.pathname.endsWith(messagesPath));
      for (const route of held) await route.continue();
    }
    assert.ok(pages >= (kCount - 30) / 30, `paged back ${pages} times`);
    await timeline.evaluate((el) => (el.scrollTop = 0));
    const first = timeline.getByText(bodies.get(order[0]), { exact: true });
    await first.waitFor();
    await timeline.getByText('alice created the conversation').waitFor();
    const shot = await snapshot(page);
    checkRows(shot, 'at the start');
    assert.equal(shot.places[0], 0, 'the first row is the first message');
    assert.ok(shot.visible.includes(order[0]), 'the first message is in view');
    // Everything is loaded (each row says its place among all of them) while few are rendered.
    assert.ok(Number(shot.setsize) > kCount, `aria-setsize ${shot.setsize} counts every row`);
  });

  step('shows the middle of the history when the scroll bar is dragged there', async () => {
    const { page } = people.bob;
    const timeline = log(page);
    await timeline.evaluate((el) => (el.scrollTop = (el.scrollHeight - el.clientHeight) / 2));
    await waitUntil(async () => (await snapshot(page)).visible.length > 0);
    const shot = await snapshot(page);
    checkRows(shot, 'middle');
    const middle = shot.places[Math.floor(shot.places.length / 2)];
    assert.ok(middle > kCount * 0.3 && middle < kCount * 0.7, `the middle rows are messages near the middle (${middle})`);
  });

  step('goes back to the latest with the End key, and stays there when a message comes', async () => {
    const { page } = people.bob;
    const timeline = log(page);
    await timeline.focus();
    await page.keyboard.press('End');
    await waitUntil(async () => (await snapshot(page)).visible.includes(order.at(-1)));
    let shot = await snapshot(page);
    checkRows(shot, 'back at the latest');
    assert.equal(shot.places.at(-1), kCount - 1, 'the last row is the latest message');
    assert.ok(shot.fromBottom < 48, `at the bottom (${shot.fromBottom}px above it)`);

    await send(people.alice.token, roomId, { msgtype: 'm.text', body: 'a fresh message' });
    await timeline.getByText('a fresh message', { exact: true }).waitFor();
    await waitUntil(async () => (await snapshot(page)).fromBottom < 2);
    shot = await snapshot(page);
    assert.ok(shot.ids.length < kMaxMessageRows, `${shot.ids.length} message rows`);
    const fresh = await timeline.getByText('a fresh message', { exact: true }).boundingBox();
    const view = await timeline.boundingBox();
    assert.ok(fresh.y + fresh.height <= view.y + view.height, 'the new message is in view');
    assert.deepEqual(people.bob.problems, []);
  });
});

function timelineAtStart(timeline) {
  return timeline
    .getByText('This is the start of the conversation.')
    .count()
    .then((n) => n > 0);
}

/** Polls `condition` (sync or async) until it holds; fails after kTimeoutMs. */
async function waitUntil(condition) {
  const deadline = Date.now() + kTimeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${kTimeoutMs} ms: ${condition}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
