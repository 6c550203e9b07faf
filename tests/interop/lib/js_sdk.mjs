// Shared by the matrix-js-sdk interop tests: the SDK (resolved from web/node_modules, the copy our
// web client ships), bounded waits on its events, and a client's first sync.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

export const require = createRequire(new URL('../../../web/package.json', import.meta.url));
export const sdk = require('matrix-js-sdk');
const { logger } = require('matrix-js-sdk/lib/logger.js');
logger.setLevel('warn');

/** Resolves with the event's arguments once `predicate` accepts them; rejects after `ms`. */
export function until(emitter, event, predicate, ms = 15000, what = event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    function listener(...args) {
      if (predicate(...args)) {
        clearTimeout(timer);
        emitter.off(event, listener);
        resolve(args);
      }
    }
    emitter.on(event, listener);
  });
}

/** Starts `client` and waits for its first sync to complete. */
export async function started(client) {
  const ready = until(client, sdk.ClientEvent.Sync, (state) => state === 'PREPARED' || state === 'ERROR',
    15000, 'first sync');
  await client.startClient({ initialSyncLimit: 20 });
  const [state] = await ready;
  assert.equal(state, 'PREPARED', 'the client could not complete its first sync');
}
