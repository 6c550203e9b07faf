// npm's matrix-js-sdk (the library Element and our web client are built on) against Ruche:
// log in, start the client (versions, push rules, capabilities, filters, sync), create a room
// with an invite, join, send and receive in real time, reply in a thread, paginate history.
// Run: node --test tests/interop/  (resolves matrix-js-sdk from web/node_modules)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startServer } from '../e2e/lib/ruche_server.mjs';
import { sdk, started, until } from './lib/js_sdk.mjs';


const kPassword = 'correct horse battery';
let server;
const clients = [];

async function loggedIn(user) {
  const anon = sdk.createClient({ baseUrl: server.url });
  const r = await anon.loginWithPassword(user, kPassword);
  const client = sdk.createClient({
    baseUrl: server.url, accessToken: r.access_token, userId: r.user_id, deviceId: r.device_id,
  });
  clients.push(client);
  return client;
}

before(async () => {
  server = await startServer({
    users: { alice: kPassword, bob: kPassword },
  });
});

after(async () => {
  for (const c of clients) c.stopClient();
  if (server) await server.stop();
});

test('two clients exchange messages, a thread reply, and history', async () => {
  const alice = await loggedIn('alice');
  const bob = await loggedIn('bob');
  await started(alice);
  await started(bob);

  const invited = until(bob, sdk.RoomEvent.MyMembership, (room, membership) => membership === 'invite',
    15000, "bob's invite");
  const { room_id: roomId } = await alice.createRoom({ name: 'interop', invite: ['@bob:localhost'] });
  const [invitedRoom] = await invited;
  assert.equal(invitedRoom.roomId, roomId);

  await bob.joinRoom(roomId);
  const received = until(bob, sdk.RoomEvent.Timeline,
    (ev) => ev.getType() === 'm.room.message' && ev.getContent().body === 'bonjour', 15000,
    'the message on bob\'s side');
  const { event_id: rootId } = await alice.sendTextMessage(roomId, 'bonjour');
  const [ev] = await received;
  assert.equal(ev.getId(), rootId);
  assert.equal(ev.getSender(), '@alice:localhost');

  // A reply in a thread: an m.thread relation to the root, seen as such by the other side.
  const threaded = until(alice, sdk.RoomEvent.Timeline,
    (e) => e.getType() === 'm.room.message' && e.getContent().body === 'in the thread', 15000,
    'the thread reply on alice\'s side');
  await bob.sendEvent(roomId, 'm.room.message', {
    msgtype: 'm.text',
    body: 'in the thread',
    'm.relates_to': {
      rel_type: 'm.thread', event_id: rootId, is_falling_back: true,
      'm.in_reply_to': { event_id: rootId },
    },
  });
  const [reply] = await threaded;
  assert.equal(reply.getRelation()?.rel_type, 'm.thread');
  assert.equal(reply.getRelation()?.event_id, rootId);

  // History: 30 more messages, then a fresh client pages back to the first one.
  for (let i = 0; i < 30; i++) await alice.sendTextMessage(roomId, `m${i}`);
  const carol = await loggedIn('bob');  // a new device of bob's, with an empty cache
  await started(carol);
  const room = carol.getRoom(roomId);
  assert.ok(room, 'the room is in the new client after its first sync');
  const bodies = () => room.getLiveTimeline().getEvents()
    .filter((e) => e.getType() === 'm.room.message').map((e) => e.getContent().body);
  for (let i = 0; i < 10 && !bodies().includes('bonjour'); i++) {
    await carol.scrollback(room, 20);
  }
  const all = bodies();
  assert.ok(all.includes('bonjour'), `paginated back to the first message: ${all.join(',')}`);
  assert.deepEqual(all.slice(-3), ['m27', 'm28', 'm29']);
  assert.ok(all.indexOf('bonjour') < all.indexOf('m0'), 'history is in order');
});
