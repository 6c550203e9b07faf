// Settings in the browser against the real binary: alice changes her display name (the top bar
// and bob, who shares a room with her, see it), uploads a picture and removes it, switches to the
// dark theme (which survives a reload) and to French, renames this session, then signs another
// session of hers out with her password (a wrong one is refused first): that browser is sent back
// to the login page and its token is refused; "sign out all other sessions" ends the rest.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { axeViolations } from './lib/axe.mjs';
import { launchBrowser, visibleRawKeys } from './lib/browser.mjs';
import { matrixApi, signInThroughPage, storyStep } from './lib/chat_session.mjs';
import { kRepoRoot, startServer } from './lib/ruche_server.mjs';

const kUsers = { alice: 'alice password 1', bob: 'bob password 1' };
const kTimeoutMs = 15_000;
const kScreenshots = join(kRepoRoot, 'docs', 'screenshots');
const kChannel = 'settings-chat';
const kName = 'Alice Martin';
const kLightBg = 'rgb(244, 245, 247)'; // styles.css --bg, light
const kDarkBg = 'rgb(18, 20, 23)'; // styles.css --bg, dark


let server;
let browser;
let api;
const people = {}; // name → { context, page, problems, token, userId }
const step = storyStep(people);

/** Logs `name` in with the API (a session without a browser) → {access_token, device_id}. */
async function apiLogin(name) {
  const response = await fetch(`${server.url}/_matrix/client/v3/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: name },
      password: kUsers[name],
    }),
  });
  assert.equal(response.status, 200, `login of ${name}`);
  return response.json();
}

/** The HTTP status of whoami with `token`: 200 while the session lives, 401 once ended. */
async function whoamiStatus(token) {
  const response = await fetch(`${server.url}/_matrix/client/v3/account/whoami`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  return response.status;
}

/** Polls `read` until it returns `expected` (deep-equal); fails with the last value seen. */
async function eventually(read, expected, what) {
  let last;
  for (let i = 0; i < 100; i += 1) {
    last = await read();
    try {
      assert.deepEqual(last, expected);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  assert.deepEqual(last, expected, what);
}

/** Alice's entry in bob's view of the room's joined members. */
async function aliceSeenByBob(roomId) {
  const { joined } = await api(people.bob.token, 'GET', `/rooms/${encodeURIComponent(roomId)}/joined_members`);
  const alice = joined[people.alice.userId];
  return { name: alice.display_name ?? null, avatar: alice.avatar_url ?? null };
}

const page = () => people.alice.page;

/** Fails on any serious or critical axe violation inside the open Settings dialog. */
async function assertAxeClean(view) {
  assert.deepEqual(await axeViolations(page(), view, 'dialog.settings'), [], `axe, ${view}`);
}
const settings = () => page().getByRole('dialog', { name: 'Settings' });

async function openSettings() {
  await page().getByRole('button', { name: 'Settings', exact: true }).click();
  await settings().waitFor();
}

async function openTab(name) {
  await settings().getByRole('tab', { name }).click();
  assert.equal(await settings().getByRole('tab', { name }).getAttribute('aria-selected'), 'true');
}

const bodyBackground = () =>
  page().evaluate(() => getComputedStyle(document.body).backgroundColor);

/** A PNG drawn on a canvas in the page: a wide picture, so the avatar has to be cropped. */
async function makePng(width, height) {
  const bytes = await page().evaluate(
    async ({ width, height }) => {
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      const g = canvas.getContext('2d');
      g.fillStyle = '#3b6fd8';
      g.fillRect(0, 0, width, height);
      g.fillStyle = '#f5a524';
      g.fillRect(width / 3, height / 4, width / 3, height / 2);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
      return [...new Uint8Array(await blob.arrayBuffer())];
    },
    { width, height },
  );
  return Buffer.from(bytes);
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes) {
  assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

async function mediaBytes(token, mxc) {
  const [, serverName, mediaId] = /^mxc:\/\/([^/]+)\/(.+)$/.exec(mxc);
  const response = await fetch(`${server.url}/_matrix/client/v1/media/download/${serverName}/${mediaId}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal(response.status, 200, `download of ${mxc}`);
  return Buffer.from(await response.arrayBuffer());
}

before(async () => {
  server = await startServer({ users: kUsers });
  ({ api } = matrixApi(server));
  browser = await launchBrowser();
  // The browser's own scheme is light: Dark has to come from the choice in Settings.
  people.alice = await signInThroughPage(browser, server, 'alice', kUsers.alice, {
    timeoutMs: kTimeoutMs,
    contextOptions: { colorScheme: 'light' },
  });
  const bob = await apiLogin('bob');
  people.bob = { token: bob.access_token, userId: '@bob:localhost' };
});

after(async () => {
  for (const person of Object.values(people)) await person.context?.close();
  await browser?.close();
  await server?.stop();
});

describe('settings', () => {
  let roomId;

  step('alice and bob share a room', async () => {
    ({ room_id: roomId } = await api(people.alice.token, 'POST', '/createRoom', {
      name: kChannel,
      invite: [people.bob.userId],
    }));
    await api(people.bob.token, 'POST', `/rooms/${encodeURIComponent(roomId)}/join`, {});
    assert.deepEqual(await aliceSeenByBob(roomId), { name: null, avatar: null });
  });

  step('Settings opens from the top bar on the profile, keyboard included', async () => {
    const button = page().getByRole('button', { name: 'Settings', exact: true });
    await button.focus();
    await page().keyboard.press('Enter');
    await settings().waitFor();
    const profileTab = settings().getByRole('tab', { name: 'Profile' });
    assert.equal(await profileTab.getAttribute('aria-selected'), 'true');
    // Arrow keys move along the tabs (WAI-ARIA tabs), Escape closes and gives focus back.
    await profileTab.focus();
    await page().keyboard.press('ArrowDown');
    assert.equal(
      await settings().getByRole('tab', { name: 'Language and appearance' }).getAttribute('aria-selected'),
      'true',
    );
    await settings().getByRole('tabpanel').getByRole('group', { name: 'Theme' }).waitFor();
    await page().keyboard.press('Escape');
    await settings().waitFor({ state: 'detached' });
    assert.equal(await page().evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Settings');
  });

  step('a new display name shows in the top bar and to bob', async () => {
    await openSettings();
    const field = settings().getByLabel('Display name', { exact: true });
    assert.equal(await field.inputValue(), '');
    // Over the server's 1,024-byte limit: refused before asking the server.
    await field.fill('é'.repeat(513));
    await settings().getByRole('button', { name: 'Save', exact: true }).click();
    await settings().getByRole('alert').filter({ hasText: 'This name is too long: at most 1024 bytes.' }).waitFor();
    assert.equal(await field.getAttribute('aria-invalid'), 'true');

    // Only spaces: no name, so the user ID stands for it.
    await field.fill('   ');
    await settings().getByRole('button', { name: 'Save', exact: true }).click();
    await settings()
      .getByRole('status')
      .filter({ hasText: 'Your display name was removed: others now see @alice:localhost.' })
      .waitFor();
    assert.equal(await page().locator('.topbar__user-id').textContent(), '@alice:localhost');
    const cleared = await api(people.alice.token, 'GET', `/profile/${encodeURIComponent(people.alice.userId)}`);
    assert.equal(cleared.displayname, undefined);

    await field.fill(`  ${kName} `);
    await settings().getByRole('button', { name: 'Save', exact: true }).click();
    await settings().getByRole('status').filter({ hasText: 'Your display name is saved.' }).waitFor();
    await page().locator('.topbar__user-id', { hasText: kName }).waitFor();
    const profile = await api(people.alice.token, 'GET', `/profile/${encodeURIComponent(people.alice.userId)}`);
    assert.equal(profile.displayname, kName);
    await eventually(() => aliceSeenByBob(roomId).then((seen) => seen.name), kName, 'bob sees the new name');
  });

  step('a picture is cropped, uploaded, shown in the top bar, then removed', async () => {
    const png = await makePng(600, 300);
    await settings().locator('input[type=file]').setInputFiles({
      name: 'holiday.png',
      mimeType: 'image/png',
      buffer: png,
    });
    await settings().getByRole('status').filter({ hasText: 'Your new picture is saved.' }).waitFor();
    const { avatar_url: avatar } = await api(
      people.alice.token,
      'GET',
      `/profile/${encodeURIComponent(people.alice.userId)}`,
    );
    assert.match(avatar, /^mxc:\/\/localhost\//);
    // A square of 256 px cut from the middle of the 600×300 picture.
    assert.deepEqual(pngSize(await mediaBytes(people.alice.token, avatar)), { width: 256, height: 256 });
    await eventually(() => aliceSeenByBob(roomId).then((seen) => seen.avatar), avatar, 'bob sees the picture');
    const topbarImage = page().locator('.topbar__user .avatar img');
    await topbarImage.waitFor();
    assert.match(await topbarImage.getAttribute('src'), /^blob:/);
    assert.ok(await topbarImage.evaluate((img) => img.complete && img.naturalWidth > 0), 'the picture loaded');

    await mkdir(kScreenshots, { recursive: true });
    await page().screenshot({ path: join(kScreenshots, 'settings-profile-light.png') });
    await assertAxeClean('profile, light');

    await settings().getByRole('button', { name: 'Remove picture' }).click();
    await settings().getByRole('status').filter({ hasText: 'Your picture was removed.' }).waitFor();
    await page().locator('.topbar__user .avatar', { hasText: 'A' }).waitFor();
    assert.equal(await page().locator('.topbar__user .avatar img').count(), 0);
    const after = await api(people.alice.token, 'GET', `/profile/${encodeURIComponent(people.alice.userId)}`);
    assert.equal(after.avatar_url, undefined);
    await eventually(() => aliceSeenByBob(roomId), { name: kName, avatar: null }, 'bob sees no picture');

    // Not a picture: a clear error, nothing uploaded.
    await settings().locator('input[type=file]').setInputFiles({
      name: 'notes.png',
      mimeType: 'image/png',
      buffer: Buffer.from('not a picture at all'),
    });
    await settings()
      .getByRole('alert')
      .filter({ hasText: 'This file is not a picture this browser can read.' })
      .waitFor();
  });

  step('the dark theme applies at once and survives a reload', async () => {
    assert.equal(await bodyBackground(), kLightBg);
    await openTab('Language and appearance');
    const theme = settings().getByRole('group', { name: 'Theme' });
    assert.equal(await theme.getByRole('radio', { name: 'Same as my device' }).isChecked(), true);
    await theme.getByRole('radio', { name: 'Dark' }).check();
    await page().waitForFunction((bg) => getComputedStyle(document.body).backgroundColor === bg, kDarkBg);
    assert.equal(await page().evaluate(() => document.documentElement.dataset.theme), 'dark');

    await page().reload();
    // Checked before the workspace is back: the theme is applied as the page starts.
    assert.equal(await page().evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page().getByRole('heading', { name: 'Welcome, alice!' }).waitFor();
    assert.equal(await bodyBackground(), kDarkBg);
    await openSettings();
    await openTab('Language and appearance');
    assert.equal(await settings().getByRole('radio', { name: 'Dark' }).isChecked(), true);
    await assertAxeClean('language and appearance, dark');
  });

  step('French applies to Settings and the top bar', async () => {
    await settings().getByRole('combobox', { name: 'Language' }).selectOption('fr');
    const dialog = page().getByRole('dialog', { name: 'Paramètres' });
    await dialog.getByRole('tab', { name: 'Langue et apparence' }).waitFor();
    await dialog.getByRole('tab', { name: 'Profil' }).waitFor();
    await dialog.getByRole('group', { name: 'Thème' }).getByRole('radio', { name: 'Sombre' }).waitFor();
    assert.match(await dialog.locator('.settings__hint').first().textContent(), /fuseau horaire/);
    // The top bar behind the dialog follows too (its words are in the main locale files).
    assert.equal(await page().locator('.topbar [aria-label="Paramètres"]').count(), 1);
    assert.deepEqual(await visibleRawKeys(page()), []);
    await dialog.getByRole('tab', { name: 'Sessions' }).click();
    await dialog.getByRole('heading', { name: 'Cette session' }).waitFor();
    assert.deepEqual(await visibleRawKeys(page()), []);
    await dialog.getByRole('tab', { name: 'Langue et apparence' }).click();
    await dialog.getByRole('combobox', { name: 'Langue' }).selectOption('es');
    await page().getByRole('dialog', { name: 'Configuración' }).getByRole('tab', { name: 'Idioma y apariencia' }).waitFor();
    assert.deepEqual(await visibleRawKeys(page()), []);
    await page().getByRole('dialog', { name: 'Configuración' }).getByRole('combobox', { name: 'Idioma' }).selectOption('en');
    await settings().waitFor();
  });

  step('this session can be renamed', async () => {
    await openTab('Sessions');
    const current = settings().getByRole('region', { name: 'This session' });
    await current.getByRole('button', { name: 'Rename Ruche web · Chrome · Linux' }).click();
    const field = current.getByLabel('New name for Ruche web · Chrome · Linux');
    await field.fill('Work laptop');
    await current.getByRole('button', { name: 'Save', exact: true }).click();
    await settings().getByRole('status').filter({ hasText: 'Session renamed to Work laptop.' }).waitFor();
    await current.getByRole('listitem', { name: 'Work laptop' }).getByText('This session', { exact: true }).waitFor();
    const { devices } = await api(people.alice.token, 'GET', '/devices');
    const mine = devices.find((d) => d.display_name === 'Work laptop');
    const session = await page().evaluate(() => JSON.parse(localStorage.getItem('ruche.session')));
    assert.equal(mine?.device_id, session.deviceId);
  });

  step('another session is signed out with the password, not without', async () => {
    people.other = await signInThroughPage(browser, server, 'alice', kUsers.alice, { timeoutMs: kTimeoutMs });
    assert.equal(await whoamiStatus(people.other.token), 200);
    // Reopen the tab: the list is read when it is shown.
    await openTab('Profile');
    await openTab('Sessions');
    const others = settings().getByRole('region', { name: 'Other session (1)' });
    await others.getByRole('listitem', { name: 'Ruche web · Chrome · Linux' }).waitFor();
    assert.equal(await settings().getByRole('listitem').count(), 2);
    await page().screenshot({ path: join(kScreenshots, 'settings-sessions-dark.png') });
    await assertAxeClean('sessions, dark');

    await others.getByRole('button', { name: 'Sign out Ruche web · Chrome · Linux' }).click();
    const prompt = page().getByRole('dialog', { name: 'Sign out Ruche web · Chrome · Linux?' });
    await prompt.getByLabel('Password', { exact: true }).fill('not her password');
    await prompt.getByRole('button', { name: 'Sign out', exact: true }).click();
    await prompt.getByRole('alert').filter({ hasText: 'Wrong password. Try again.' }).waitFor();
    assert.equal(await prompt.getByLabel('Password', { exact: true }).inputValue(), '');
    assert.equal(await whoamiStatus(people.other.token), 200, 'still signed in after a wrong password');

    await prompt.getByLabel('Password', { exact: true }).fill(kUsers.alice);
    await prompt.getByRole('button', { name: 'Sign out', exact: true }).click();
    await prompt.waitFor({ state: 'detached' });
    await settings().getByRole('status').filter({ hasText: 'Ruche web · Chrome · Linux is signed out.' }).waitFor();
    await settings().getByText('You are not signed in anywhere else.').waitFor();
    assert.equal(await whoamiStatus(people.other.token), 401);
    // The other browser finds out at its next request (its /sync) and goes to the login page.
    await people.other.page.getByRole('heading', { name: 'Sign in to Ruche' }).waitFor();
    assert.equal(await people.other.page.evaluate(() => localStorage.getItem('ruche.session')), null);
    assert.deepEqual(people.other.problems, []);
  });

  step('"sign out all other sessions" ends every other one', async () => {
    const phone = await apiLogin('alice');
    const tablet = await apiLogin('alice');
    await openTab('Profile');
    await openTab('Sessions');
    const others = settings().getByRole('region', { name: 'Other sessions (2)' });
    await others.waitFor();
    await others.getByRole('button', { name: 'Sign out all other sessions' }).click();
    const prompt = page().getByRole('dialog', { name: 'Sign out all other sessions?' });
    await prompt.getByText('Your 2 other sessions will be signed out at once.').waitFor();
    await prompt.getByLabel('Password', { exact: true }).fill(kUsers.alice);
    await prompt.getByRole('button', { name: 'Sign out all other sessions' }).click();
    await settings().getByRole('status').filter({ hasText: '2 sessions signed out.' }).waitFor();
    assert.equal(await whoamiStatus(phone.access_token), 401);
    assert.equal(await whoamiStatus(tablet.access_token), 401);
    assert.equal(await whoamiStatus(people.alice.token), 200, 'this session stays');
    const { devices } = await api(people.alice.token, 'GET', '/devices');
    assert.deepEqual(devices.map((d) => d.display_name), ['Work laptop']);
    assert.deepEqual(people.alice.problems, []);
  });
});
