// The web client's sign-in flow in a real browser against the real binary: login page in the
// browser's language, errors, the workspace, session kept across reloads, sign-out (and the old
// token refused), language switching, and no console errors or CSP violations on the way.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  launchBrowser,
  newContext,
  screenshot,
  visibleRawKeys,
  watchPage,
} from './lib/browser.mjs';
import { kRelaxedLimits, startServer } from './lib/ruche_server.mjs';

const kUser = 'alice';
const kPassword = 'correct horse 1';
const kUserId = '@alice:localhost';
const kTimeoutMs = 15_000;

let server;
let browser;

before(async () => {
  server = await startServer({ users: { [kUser]: kPassword } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fresh context (no storage) and page for `locale`, with its problems being recorded. */
async function openPage(locale, watchOptions) {
  const context = await newContext(browser, { locale, viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(kTimeoutMs);
  const page = await context.newPage();
  const problems = watchPage(page, watchOptions);
  return { context, page, problems };
}

async function signIn(page, { user = kUser, password = kPassword, labels }) {
  await page.getByLabel(labels.username, { exact: true }).fill(user);
  await page.getByLabel(labels.password, { exact: true }).fill(password);
  await page.getByRole('button', { name: labels.submit, exact: true }).click();
}

const htmlLang = (page) => page.evaluate(() => document.documentElement.lang);
const storedSession = (page) =>
  page.evaluate(() => JSON.parse(localStorage.getItem('ruche.session') ?? 'null'));

async function assertNoRawKeys(page) {
  assert.deepEqual(await visibleRawKeys(page), [], 'untranslated i18n keys are visible');
}

async function whoamiStatus(token) {
  const response = await fetch(`${server.url}/_matrix/client/v3/account/whoami`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  return response.status;
}

const kEnglish = { username: 'Username', password: 'Password', submit: 'Sign in' };
const kSpanish = {
  username: 'Nombre de usuario',
  password: 'Contraseña',
  submit: 'Iniciar sesión',
};

describe('English browser (en-US)', () => {
  let context;
  let page;
  let problems;

  before(async () => {
    ({ context, page, problems } = await openPage('en-US'));
  });
  after(() => context?.close());

  it('shows the login page in English', async () => {
    await page.goto(server.url);
    await page.getByRole('heading', { name: 'Sign in to Ruche' }).waitFor();
    assert.equal(await htmlLang(page), 'en');
    assert.equal(await page.title(), 'Sign in · Ruche');
    await page.getByLabel('Username', { exact: true }).waitFor();
    await page.getByLabel('Password', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    assert.equal(await page.getByLabel('Language').inputValue(), 'en');
    await assertNoRawKeys(page);
    await screenshot(page, 'login-en.png');
  });

  it('explains a wrong password', async () => {
    await signIn(page, { password: 'not the password', labels: kEnglish });
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();
    assert.equal(await storedSession(page), null);
  });

  it('signs in and shows the workspace', async () => {
    await signIn(page, { labels: kEnglish });
    await page.getByText(kUserId, { exact: true }).waitFor();
    await page.getByRole('heading', { name: 'Welcome, alice!' }).waitFor();
    await page.getByRole('banner').waitFor();
    await page.getByRole('main').waitFor();
    await page.getByRole('navigation', { name: 'Teams' }).waitFor();
    await page.getByRole('navigation', { name: 'Conversations' }).waitFor();
    await page.getByRole('heading', { name: 'Channels' }).waitFor();
    await page.getByRole('heading', { name: 'Direct messages' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    assert.equal(await page.title(), 'Workspace · Ruche');
    assert.equal((await storedSession(page))?.userId, kUserId);
    await assertNoRawKeys(page);
    await screenshot(page, 'workspace-en.png');
  });

  it('keeps the session across a reload', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'Welcome, alice!' }).waitFor();
    await page.getByText(kUserId, { exact: true }).waitFor();
    assert.equal(await page.getByLabel('Password', { exact: true }).count(), 0);
  });

  it('signs out, and the server refuses the old token', async () => {
    const { accessToken } = await storedSession(page);
    assert.equal(await whoamiStatus(accessToken), 200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Ruche' }).waitFor();
    assert.equal(await storedSession(page), null);
    assert.equal(await whoamiStatus(accessToken), 401);
  });

  it('logged no console errors or CSP violations', () => {
    assert.deepEqual(problems, []);
  });
});

describe('French browser (fr-FR)', () => {
  let context;
  let page;
  let problems;

  before(async () => {
    ({ context, page, problems } = await openPage('fr-FR'));
  });
  after(() => context?.close());

  it('shows the login page in French', async () => {
    await page.goto(server.url);
    await page.getByRole('heading', { name: 'Connexion à Ruche' }).waitFor();
    assert.equal(await htmlLang(page), 'fr');
    assert.equal(await page.title(), 'Connexion · Ruche');
    await page.getByLabel('Nom d’utilisateur', { exact: true }).waitFor();
    await page.getByLabel('Mot de passe', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Se connecter', exact: true }).waitFor();
    assert.equal(await page.getByLabel('Langue').inputValue(), 'fr');
    await assertNoRawKeys(page);
    await screenshot(page, 'login-fr.png');
  });

  it('switches to Spanish with the language selector', async () => {
    await page.getByLabel('Langue').selectOption({ label: 'Español' });
    await page.getByRole('heading', { name: 'Inicia sesión en Ruche' }).waitFor();
    assert.equal(await htmlLang(page), 'es');
    assert.equal(await page.title(), 'Iniciar sesión · Ruche');
    assert.equal(await page.getByLabel('Idioma').inputValue(), 'es');
    await assertNoRawKeys(page);
  });

  it('signs in in Spanish and keeps Spanish after a reload', async () => {
    await signIn(page, { labels: kSpanish });
    await page.getByRole('heading', { name: '¡Te damos la bienvenida, alice!' }).waitFor();
    await page.getByText(kUserId, { exact: true }).waitFor();
    await page.getByRole('heading', { name: 'Canales' }).waitFor();
    await page.getByRole('heading', { name: 'Mensajes directos' }).waitFor();
    await page.getByRole('navigation', { name: 'Equipos' }).waitFor();
    assert.equal(await page.title(), 'Espacio de trabajo · Ruche');
    await assertNoRawKeys(page);
    await screenshot(page, 'workspace-es.png');

    await page.reload();
    await page.getByRole('button', { name: 'Cerrar sesión' }).waitFor();
    assert.equal(await htmlLang(page), 'es');
    await page.getByRole('button', { name: 'Cerrar sesión' }).click();
    await page.getByRole('heading', { name: 'Inicia sesión en Ruche' }).waitFor();
  });

  it('logged no console errors or CSP violations', () => {
    assert.deepEqual(problems, []);
  });
});

describe('sign-in errors', () => {
  it('explains an unreachable server', async () => {
    const { context, page, problems } = await openPage('en-US', {
      allow: [/ERR_CONNECTION_REFUSED/],
    });
    try {
      await page.route('**/_matrix/client/v3/login', (route) => route.abort('connectionrefused'));
      await page.goto(server.url);
      await signIn(page, { labels: kEnglish });
      await page
        .getByRole('alert')
        .filter({ hasText: 'Cannot reach the server. Check your connection and try again.' })
        .waitFor();
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('explains a rate limit with the seconds to wait', async () => {
    // One failure per user allowed, then a 100 s wait: the second wrong password is refused
    // with M_LIMIT_EXCEEDED and retry_after_ms.
    const limited = await startServer({
      users: { [kUser]: kPassword },
      settings: {
        ...kRelaxedLimits,
        'limits.login_failures_per_user_burst': '1',
        'limits.login_failures_per_user_per_second': '0.01',
      },
    });
    const { context, page, problems } = await openPage('en-US');
    try {
      await page.goto(limited.url);
      await signIn(page, { password: 'wrong 1', labels: kEnglish });
      await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();
      await signIn(page, { password: 'wrong 2', labels: kEnglish });
      await page
        .getByRole('alert')
        .filter({ hasText: /^Too many attempts\. Try again in \d+ seconds?\.$/ })
        .waitFor();
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
      await limited.stop();
    }
  });
});
