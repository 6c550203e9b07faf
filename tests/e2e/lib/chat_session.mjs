// What the chat browser tests share: Client-Server API calls made by the test itself (to set the
// scene or check the server's side), signing in through the real login page, and `step`, a
// test of a story that prints what every page showed when it failed.
import { it } from 'node:test';
import { newContext, reportFailure, watchPage } from './browser.mjs';

/** API helpers against `server` (from startServer): `api` throws on an error status. */
export function matrixApi(server) {
  async function api(token, method, path, body) {
    const response = await fetch(`${server.url}/_matrix/client/v3${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const payload = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(payload)}`);
    }
    return payload;
  }
  let txn = 0;
  const send = (token, roomId, content) =>
    api(token, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t${Date.now()}-${txn++}`, content);
  return { api, send };
}

/**
 * Signs `name` in through the login page of `server` in a new context of `browser` and waits
 * for the workspace. `onPage(page)` runs before the first navigation (to watch requests).
 * Returns {context, page, problems, token, userId}.
 */
export async function signInThroughPage(browser, server, name, password, {
  contextOptions = {},
  timeoutMs = 15_000,
  onPage = () => {},
} = {}) {
  const context = await newContext(browser, {
    locale: 'en-US',
    viewport: { width: 1280, height: 800 },
    ...contextOptions,
  });
  context.setDefaultTimeout(timeoutMs);
  const page = await context.newPage();
  const problems = watchPage(page);
  onPage(page);
  await page.goto(server.url);
  await page.getByLabel('Username', { exact: true }).fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: `Welcome, ${name}!` }).waitFor();
  const session = await page.evaluate(() => JSON.parse(localStorage.getItem('ruche.session')));
  return { context, page, problems, token: session.accessToken, userId: session.userId };
}

/**
 * `it` for the tests of a story (each builds on the ones before), plus what every page of
 * `people` ({name: {page, problems}}) showed when it failed: the first failure is the one to read.
 */
export const storyStep = (people) => (name, fn) =>
  it(name, async () => {
    try {
      await fn();
    } catch (error) {
      await reportFailure(name, people);
      throw error;
    }
  });
