// End-to-end encryption with npm's matrix-js-sdk and its Rust crypto (matrix-sdk-crypto-wasm,
// in-memory store) against Ruche: each client uploads its device and one-time keys, alice sends
// in a room with m.room.encryption (js-sdk queries bob's devices, claims a one-time key, sends
// the megolm room key over /sendToDevice), bob decrypts; then bob logs in a second device, alice
// learns of it through device_lists in /sync and a new message decrypts there too.
// Run: node --test tests/interop/  (resolves matrix-js-sdk from web/node_modules)
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { startServer } from '../e2e/lib/ruche_server.mjs';
import { require, sdk, started, until } from './lib/js_sdk.mjs';

// The ES module instance js-sdk imports (the package's "import"/"node" entry, node.mjs): every
// initRustCrypto() turns the wasm tracing on at debug level; we turn it back down to warnings.
const wasm = await import(pathToFileURL(
  join(dirname(require.resolve('@matrix-org/matrix-sdk-crypto-wasm')), 'node.mjs')).href);
const quietRustTracing = () => new wasm.Tracing(wasm.LoggerLevel.Warn).turnOn();

const kPassword = 'correct horse battery';
const kMegolm = 'm.megolm.v1.aes-sha2';
let server;
const clients = [];

/** A logged-in client with Rust crypto in memory (a new device on each call). */
async function loggedIn(user) {
  const anon = sdk.createClient({ baseUrl: server.url });
  const r = await anon.loginWithPassword(user, kPassword);
  const client = sdk.createClient({
    baseUrl: server.url, accessToken: r.access_token, userId: r.user_id, deviceId: r.device_id,
  });
  clients.push(client);
  await client.initRustCrypto({ useIndexedDB: false });
  quietRustTracing();
  assert.ok(client.getCrypto(), 'the client has a crypto backend');
  return client;
}

/** Polls `probe` (may be async) until it returns a truthy value; `state()` explains a timeout. */
async function eventually(probe, what, { ms = 20000, state = () => '' } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) {
      const detail = await state();
      throw new Error(`timed out waiting for ${what}${detail ? `: ${detail}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A plain client-server API call with `client`'s access token, outside js-sdk. */
async function api(client, method, path, body) {
  const res = await fetch(`${server.url}/_matrix/client/v3${path}`, {
    method,
    headers: { Authorization: `Bearer ${client.getAccessToken()}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text };
}

/** Waits until the server returns `client`'s own device keys (as js-sdk uploaded them). */
async function keysOnServer(client) {
  const userId = client.getUserId();
  const deviceId = client.getDeviceId();
  const own = await client.getCrypto().getOwnDeviceKeys();
  let last;
  const device = await eventually(async () => {
    last = await api(client, 'POST', '/keys/query', { device_keys: { [userId]: [] } });
    assert.notEqual(last.status, 404, `/keys/query: ${last.text}`);
    return last.status === 200 && last.json?.device_keys?.[userId]?.[deviceId];
  }, `${userId}/${deviceId}'s device keys on the server`,
  { state: () => `last /keys/query: ${last?.status} ${last?.text.slice(0, 300)}` });
  assert.equal(device.user_id, userId);
  assert.equal(device.device_id, deviceId);
  assert.ok(device.algorithms.includes(kMegolm), `algorithms: ${device.algorithms}`);
  assert.equal(device.keys[`ed25519:${deviceId}`], own.ed25519);
  assert.equal(device.keys[`curve25519:${deviceId}`], own.curve25519);
  assert.ok(device.signatures?.[userId]?.[`ed25519:${deviceId}`], 'the device keys keep their signature');
}

/** The event `eventId` in `client`'s copy of the room, once decrypted to `body`. */
async function decrypted(client, roomId, eventId, body) {
  const find = () => client.getRoom(roomId)?.findEventById(eventId);
  const ev = await eventually(() => {
    const e = find();
    return e && !e.isBeingDecrypted() && !e.isDecryptionFailure() && e.getClearContent()?.body === body && e;
  }, `${client.getUserId()}/${client.getDeviceId()} to decrypt ${eventId}`, {
    state: () => {
      const e = find();
      if (!e) return 'the event is not in the room timeline';
      return `wire type ${e.getWireType()}, being decrypted ${e.isBeingDecrypted()}, `
        + `failure ${e.decryptionFailureReason}, clear content ${JSON.stringify(e.getClearContent())}`;
    },
  });
  assert.equal(ev.getWireType(), 'm.room.encrypted');
  assert.equal(ev.getType(), 'm.room.message');
  assert.ok(ev.isEncrypted());
  assert.equal(ev.getSender(), '@alice:localhost');
  return ev;
}

/** The event as the server stores it: encrypted, no plaintext. */
async function assertEncryptedOnServer(client, roomId, eventId, plaintext) {
  const r = await api(client, 'GET',
    `/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(eventId)}`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.type, 'm.room.encrypted');
  assert.equal(r.json.content.algorithm, kMegolm);
  assert.equal(typeof r.json.content.ciphertext, 'string');
  assert.equal(typeof r.json.content.session_id, 'string');
  assert.ok(!r.text.includes(plaintext), 'the plaintext is not on the server');
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

test('an encrypted room: bob and then bob\'s new device decrypt alice\'s messages', { timeout: 180_000 },
  async () => {
    const alice = await loggedIn('alice');
    const bob = await loggedIn('bob');
    await started(alice);
    await started(bob);
    // js-sdk uploads device keys and one-time keys (/keys/upload) after its first sync.
    await keysOnServer(alice);
    await keysOnServer(bob);

    const invited = until(bob, sdk.RoomEvent.MyMembership, (room, membership) => membership === 'invite',
      15000, "bob's invite");
    const { room_id: roomId } = await alice.createRoom({
      name: 'secret',
      invite: ['@bob:localhost'],
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: kMegolm } }],
    });
    const [invitedRoom] = await invited;
    assert.equal(invitedRoom.roomId, roomId);
    await bob.joinRoom(roomId);

    // Both sides know the room is encrypted (else js-sdk would send in the clear) and alice
    // sees bob joined before she sends.
    await eventually(() => alice.getCrypto().isEncryptionEnabledInRoom(roomId), 'alice to see encryption on');
    await eventually(() => bob.getCrypto().isEncryptionEnabledInRoom(roomId), 'bob to see encryption on');
    await eventually(() => alice.getRoom(roomId)?.getMember('@bob:localhost')?.membership === 'join',
      'alice to see bob joined');

    const { event_id: first } = await withTimeout(alice.sendTextMessage(roomId, 'secret one'), 30000,
      'alice sending the first encrypted message');
    await assertEncryptedOnServer(alice, roomId, first, 'secret one');
    await decrypted(bob, roomId, first, 'secret one');

    // Bob's second device: alice must learn of it (device_lists.changed in her /sync, then
    // /keys/query) and share the room key with it on her next message.
    const bob2 = await loggedIn('bob');
    assert.notEqual(bob2.getDeviceId(), bob.getDeviceId());
    await started(bob2);
    await keysOnServer(bob2);
    await eventually(async () => {
      const devices = await alice.getCrypto().getUserDeviceInfo(['@bob:localhost']);
      return devices.get('@bob:localhost')?.has(bob2.getDeviceId());
    }, 'alice to learn of bob\'s second device', {
      state: async () => {
        const devices = await alice.getCrypto().getUserDeviceInfo(['@bob:localhost']);
        return `alice knows bob's devices ${[...(devices.get('@bob:localhost')?.keys() ?? [])]}`;
      },
    });
    await eventually(() => bob2.getCrypto().isEncryptionEnabledInRoom(roomId), 'bob2 to see encryption on');

    const { event_id: second } = await withTimeout(alice.sendTextMessage(roomId, 'secret two'), 30000,
      'alice sending the second encrypted message');
    assert.notEqual(second, first);
    await assertEncryptedOnServer(alice, roomId, second, 'secret two');
    await decrypted(bob2, roomId, second, 'secret two');
    await decrypted(bob, roomId, second, 'secret two');
  });
