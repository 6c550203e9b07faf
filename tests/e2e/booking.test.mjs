// Public booking pages in real browsers against the real binary. The owner's booking type is
// made through the API (Europe/Paris, Mondays 09:00–11:00, a required question); a visitor in a
// French browser in Paris books the first Monday of next month at 09:00 from /book/<owner>/<slug>
// and the booking reaches the owner's API and CalDAV calendar; the manage link from the booking's
// answer moves it, then cancels it; a visitor in New York sees the same times in her own zone,
// switches zones, and is told clearly when someone takes her slot first. Expected dates and times
// are computed with Intl from the zones' rules, never from hard-coded offsets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, newContext, screenshot, visibleRawKeys, watchPage } from './lib/browser.mjs';
import { kRelaxedLimits, serverApi, startServer } from './lib/ruche_server.mjs';
import { addDays, isoUtc, wallClock, zonedInstant } from './lib/dates.mjs';

const kOwner = 'camille';
const kPassword = 'correct horse 1';
const kOwnerName = 'Dr Camille Martin';
const kSlug = 'consultation';
const kTitle = 'Consultation';
const kQuestion = { id: 'reason', label: 'Motif de la consultation', required: true };
const kParis = 'Europe/Paris';
const kNewYork = 'America/New_York';
// Generous: the browser shares the machine with the server (and maybe a compiler).
const kTimeoutMs = 30_000;
const kLong = { timeout: 120_000 };

let server;
let browser;
let token;
/** The Monday the tests book (the first of next month in Paris) and its 09:00 in UTC. */
let monday;
/** What the first test's booking answered (its manage link). */
let booked = null;

// ---- dates through Intl --------------------------------------------------------------------

const monthIndex = (day) => Number(day.slice(0, 4)) * 12 + Number(day.slice(5, 7)) - 1;
/** Normalises the spaces ICU puts in dates and times (narrow no-break before AM, etc.). */
const spaces = (text) => text.replace(/\s+/g, ' ').trim();

/** The first Monday of the month after today's in Paris. */
function firstMondayOfNextMonth() {
  const today = wallClock(new Date(), kParis).day;
  const [y, m] = today.split('-').map(Number);
  for (let d = 1; d <= 7; d += 1) {
    const candidate = new Date(Date.UTC(y, m, d)); // month m (0-based) is next month
    if (candidate.getUTCDay() === 1) return candidate.toISOString().slice(0, 10);
  }
  throw new Error('unreachable');
}

/** "lundi 7 décembre 2026" for a civil date, as the page writes it. */
const longDate = (day, lng) =>
  new Intl.DateTimeFormat(lng, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  }).format(new Date(`${day}T12:00:00Z`));

const monthName = (day, lng) =>
  new Intl.DateTimeFormat(lng, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
    new Date(`${day}T12:00:00Z`),
  );

// ---- server and API ------------------------------------------------------------------------

const api = (method, path, { auth, body } = {}) =>
  serverApi(server, method, path, { token: auth, body });

/** calendar-data of the owner's personal calendar's events overlapping `day` (UTC). */
async function caldavEventsOn(day) {
  const compact = (d) => `${d.replaceAll('-', '')}T000000Z`;
  const body = `<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VEVENT">
        <C:time-range start="${compact(day)}" end="${compact(addDays(day, 1))}"/>
      </C:comp-filter>
    </C:comp-filter>
  </C:filter>
</C:calendar-query>`;
  const response = await fetch(`${server.url}/dav/calendars/${kOwner}/personal/`, {
    method: 'REPORT',
    headers: {
      'Authorization': `Basic ${Buffer.from(`${kOwner}:${kPassword}`).toString('base64')}`,
      'Content-Type': 'application/xml; charset=utf-8',
      'Depth': '1',
    },
    body,
  });
  const text = await response.text();
  assert.equal(response.status, 207, `REPORT answered ${response.status}: ${text}`);
  // Unfold iCalendar lines (RFC 5545 §3.1) so a long property reads whole.
  return text.replace(/\r?\n[ \t]/g, '');
}

async function ownerBookings() {
  return (await api('GET', '/_ruche/v1/bookings', { auth: token })).bookings;
}

before(async () => {
  server = await startServer({
    users: { [kOwner]: kPassword },
    settings: {
      ...kRelaxedLimits,
      'limits.bookings_per_ip_burst': '1000',
      'limits.bookings_per_ip_per_second': '100',
    },
  });
  browser = await launchBrowser();
  const login = await api('POST', '/_matrix/client/v3/login', {
    body: {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: kOwner },
      password: kPassword,
    },
  });
  token = login.access_token;
  await api('PUT', `/_matrix/client/v3/profile/@${kOwner}:localhost/displayname`, {
    auth: token,
    body: { displayname: kOwnerName },
  });
  const type = await api('POST', '/_ruche/v1/booking_types', {
    auth: token,
    body: {
      slug: kSlug,
      title: kTitle,
      description: 'Un premier échange de 30 minutes.',
      duration_min: 30,
      timezone: kParis,
      location: { kind: 'video' },
      availability: { weekly: { mon: [['09:00', '11:00']] }, overrides: {} },
      horizon_days: 365,
      questions: [kQuestion],
    },
  });
  assert.equal(type.url, `/book/${kOwner}/${kSlug}`);
  const day = firstMondayOfNextMonth();
  monday = { day, nine: zonedInstant(day, '09:00', kParis) };
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fresh context in `locale` and `timezoneId`, and a page whose problems are recorded. */
async function openPage({ locale, timezoneId }) {
  const context = await newContext(browser, {
    locale,
    timezoneId,
    viewport: { width: 1280, height: 860 },
  });
  context.setDefaultTimeout(kTimeoutMs);
  const page = await context.newPage();
  const problems = watchPage(page);
  return { context, page, problems };
}

async function assertTranslated(page) {
  assert.deepEqual(await visibleRawKeys(page), [], 'untranslated i18n keys are visible');
  const text = await page.evaluate(() => document.body.innerText);
  assert.doesNotMatch(text, /booking\./, 'a booking.* key is shown instead of its text');
}

/** Clicks "next month" until the calendar shows the month of `day`. */
async function showMonthOf(page, day, { lng, next }) {
  const wanted = monthName(day, lng).toLowerCase();
  const heading = page.locator('.month-calendar__month');
  for (let i = 0; i < 3 && (await heading.innerText()).toLowerCase() !== wanted; i += 1) {
    await page.getByRole('button', { name: next, exact: true }).click();
  }
  assert.equal((await heading.innerText()).toLowerCase(), wanted);
}

/** The slot buttons' times shown for the chosen day. */
async function shownTimes(list) {
  return (await list.locator('.slot-button__time').allInnerTexts()).map(spaces);
}

const focusedId = (page) => page.evaluate(() => document.activeElement?.id ?? null);

describe('booking page', { timeout: 400_000 }, () => {
  it('books a slot as a visitor in French, into the owner\'s API and calendar', kLong, async () => {
    const { context, page, problems } = await openPage({ locale: 'fr-FR', timezoneId: kParis });
    try {
      await page.goto(`${server.url}/book/${kOwner}/${kSlug}`);
      await page.getByRole('heading', { level: 1, name: kTitle }).waitFor();
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr');
      assert.equal(await page.title(), `${kTitle} · Ruche`);
      await page.getByText(`Avec ${kOwnerName}`, { exact: true }).waitFor();
      await page.getByText('30 minutes', { exact: true }).waitFor();
      await page.getByText('Visioconférence sur Ruche', { exact: true }).waitFor();
      assert.equal(await page.getByLabel('Fuseau horaire', { exact: true }).inputValue(), kParis);

      await showMonthOf(page, monday.day, { lng: 'fr', next: 'Mois suivant' });
      const date = longDate(monday.day, 'fr'); // "lundi 7 décembre 2026"
      // Mondays have four free half-hours; the Tuesday after has none.
      const dayButton = page.getByRole('button', { name: `${date}, 4 créneaux libres`, exact: true });
      const tuesday = longDate(addDays(monday.day, 1), 'fr');
      await page
        .getByRole('button', { name: `${tuesday}, aucun créneau libre`, exact: true })
        .waitFor();
      await dayButton.click();
      const list = page.getByRole('list', { name: `Créneaux libres le ${date}`, exact: true });
      await list.waitFor();
      assert.deepEqual(await shownTimes(list), ['09:00', '09:30', '10:00', '10:30']);
      await page.getByText(`Horaires en ${kParis}.`, { exact: true }).waitFor();
      await assertTranslated(page);
      await screenshot(page, 'booking-fr-slots.png');

      await list.getByRole('button', { name: '09:00', exact: true }).click();
      await page.getByRole('heading', { name: 'Vos coordonnées', exact: true }).waitFor();
      assert.equal(await focusedId(page), 'booking-form-heading');
      assert.match(spaces(await page.locator('.booking-chosen__when').innerText()), /09:00 – 09:30$/);

      // Nothing filled in: every problem said, none sent, the first field focused.
      const submit = page.getByRole('button', { name: 'Confirmer la réservation', exact: true });
      await submit.click();
      await page.getByRole('alert').filter({ hasText: '4 champs sont à corriger.' }).waitFor();
      for (const message of [
        'Indiquez votre nom.',
        'Indiquez votre adresse e-mail.',
        'Cette question demande une réponse.',
        'Cochez cette case pour donner votre accord : sans lui, la réservation est impossible.',
      ]) {
        await page.getByText(message, { exact: true }).waitFor();
      }
      const name = page.getByLabel('Votre nom', { exact: true });
      assert.equal(await focusedId(page), 'booking-name');
      assert.equal(await name.getAttribute('aria-invalid'), 'true');
      assert.equal((await ownerBookings()).length, 0);
      await screenshot(page, 'booking-fr-form-errors.png');

      await name.fill('Zoë Lefèvre');
      await page.getByLabel('Adresse e-mail', { exact: true }).fill('zoe.lefevre@example.org');
      await page.getByLabel(kQuestion.label, { exact: true }).fill('Renouvellement');
      await page.getByLabel('Remarques (facultatif)', { exact: true }).fill('Première visite.');
      await page.getByLabel(/^J’accepte que Dr Camille Martin reçoive ces informations/).check();
      const answer = page.waitForResponse(
        (r) => r.request().method() === 'POST' && r.url().endsWith(`/book/${kOwner}/${kSlug}`),
      );
      await submit.click();
      const response = await answer;
      assert.equal(response.status(), 200);
      booked = await response.json();
      const sent = response.request().postDataJSON();
      assert.equal(sent.language, 'fr');
      assert.equal(sent.timezone, kParis);

      const done = page.getByRole('heading', { name: 'Votre rendez-vous est réservé', exact: true });
      await done.waitFor();
      assert.equal(await focusedId(page), 'booking-done-heading');
      // (textContent: the page capitalises the first letter with CSS only.)
      const confirmation = page.locator('.booking-confirmation');
      assert.equal(await confirmation.locator('.booking-when__date').textContent(), date);
      assert.equal(
        spaces(await confirmation.locator('.booking-when__time').textContent()),
        `09:00 – 09:30 (${kParis})`,
      );
      await page
        .getByText('Un e-mail de confirmation est en route vers zoe.lefevre@example.org.', {
          exact: true,
        })
        .waitFor();
      const join = page.getByRole('link', { name: 'Rejoindre la visioconférence', exact: true });
      assert.match(await join.getAttribute('href'), /\/meet\/[^/?]+\?k=/);
      await assertTranslated(page);
      await screenshot(page, 'booking-fr-confirmation.png');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }

    // The owner's API has it at 09:00 Paris time, in UTC.
    const bookings = await ownerBookings();
    assert.equal(bookings.length, 1);
    const [booking] = bookings;
    assert.equal(booking.id, booked.id);
    assert.equal(booking.start, isoUtc(monday.nine));
    assert.equal(booking.status, 'confirmed');
    assert.equal(booking.name, 'Zoë Lefèvre');
    assert.equal(booking.timezone, kParis);
    assert.deepEqual(booking.answers, { reason: 'Renouvellement' });

    // And so does the owner's calendar, over CalDAV; the day after has nothing.
    const events = await caldavEventsOn(monday.day);
    assert.match(events, /calendar-data/);
    assert.ok(events.includes('Zoë Lefèvre'), `the visitor is not in: ${events}`);
    assert.ok(events.includes(`DTSTART`), events);
    assert.ok(!(await caldavEventsOn(addDays(monday.day, 1))).includes('Zoë Lefèvre'));
  });

  it('moves, then cancels the booking from its manage link', kLong, async () => {
    assert.ok(booked?.manage_url, 'the first test made no booking');
    const manage = new URL(booked.manage_url);
    assert.match(manage.pathname, /^\/book\/manage\/[^/]+$/);
    const { context, page, problems } = await openPage({ locale: 'en-US', timezoneId: kParis });
    try {
      // A wrong token shows nothing of the booking.
      await page.goto(`${server.url}${manage.pathname}?t=wrong-token`);
      await page.getByRole('heading', { name: 'This link does not work', exact: true }).waitFor();
      assert.equal(await page.getByText('Zoë Lefèvre').count(), 0);

      await page.goto(`${server.url}${manage.pathname}${manage.search}`);
      await page.getByRole('heading', { name: 'Your appointment', exact: true }).waitFor();
      const summary = page.locator('.booking-step');
      await summary.getByText('Confirmed', { exact: true }).waitFor();
      assert.equal(
        await summary.locator('.booking-when__date').textContent(),
        longDate(monday.day, 'en'),
      );

      // Move it to 10:00 (Paris) the same Monday.
      await page.getByRole('button', { name: 'Move the appointment', exact: true }).click();
      await page.getByRole('heading', { name: 'Choose a new time', exact: true }).waitFor();
      await showMonthOf(page, monday.day, { lng: 'en', next: 'Next month' });
      // Its own 09:00 is taken by itself: three free times left.
      const date = longDate(monday.day, 'en');
      await page.getByRole('button', { name: `${date}, 3 free times`, exact: true }).click();
      const list = page.getByRole('list', { name: `Free times on ${date}`, exact: true });
      const tenLabel = new Intl.DateTimeFormat('en', {
        hour: 'numeric',
        minute: '2-digit',
        timeZone: kParis,
      }).format(zonedInstant(monday.day, '10:00', kParis));
      assert.ok((await shownTimes(list)).includes(spaces(tenLabel)));
      await list.getByRole('button', { name: tenLabel, exact: true }).click();
      await page.getByRole('heading', { name: /^Move the appointment to / }).waitFor();
      await page.getByRole('button', { name: 'Move it', exact: true }).click();
      await page.getByText(/^Your appointment has been moved\./).waitFor();
      const moved = (await ownerBookings()).find((b) => b.id === booked.id);
      assert.equal(moved.start, isoUtc(zonedInstant(monday.day, '10:00', kParis)));
      assert.equal(moved.status, 'confirmed');
      // The owner's calendar event moved too (UTC or Paris wall time, both are iCalendar).
      const ten = zonedInstant(monday.day, '10:00', kParis);
      const utcStamp = isoUtc(ten).replace(/[-:]/g, '');
      const parisStamp = `${monday.day.replaceAll('-', '')}T100000`;
      const event = await caldavEventsOn(monday.day);
      assert.ok(
        event.includes(`DTSTART:${utcStamp}`) || event.includes(`DTSTART;TZID=${kParis}:${parisStamp}`),
        `the calendar event did not move to 10:00: ${event}`,
      );

      // Cancel, after saying yes.
      await page.getByRole('button', { name: 'Cancel the appointment', exact: true }).click();
      await page.getByRole('heading', { name: 'Cancel this appointment?', exact: true }).waitFor();
      assert.equal(await focusedId(page), 'manage-cancel-question');
      assert.equal((await ownerBookings())[0].status, 'confirmed', 'cancelled without a yes');
      await page.getByRole('button', { name: 'Yes, cancel it', exact: true }).click();
      await page
        .getByRole('heading', { name: 'Your appointment is cancelled', exact: true })
        .waitFor();
      await summary.getByText('Cancelled', { exact: true }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Cancel the appointment' }).count(), 0);
      await assertTranslated(page);
      await screenshot(page, 'booking-manage-cancelled.png');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
    const [after] = await ownerBookings();
    assert.equal(after.id, booked.id);
    assert.equal(after.status, 'cancelled');
    assert.ok(!(await caldavEventsOn(monday.day)).includes('Zoë Lefèvre'), 'still in the calendar');
  });

  it('shows a New York visitor the same slots in her zone, and a slot taken meanwhile', kLong, async () => {
    // The second Monday: untouched by the tests above.
    const day = addDays(monday.day, 7);
    const nine = zonedInstant(day, '09:00', kParis);
    const there = wallClock(nine, kNewYork);
    const time = (zone) =>
      spaces(
        new Intl.DateTimeFormat('en-US', { hour: 'numeric', minute: '2-digit', timeZone: zone })
          .format(nine),
      );
    const { context, page, problems } = await openPage({ locale: 'en-US', timezoneId: kNewYork });
    try {
      await page.goto(`${server.url}/book/${kOwner}/${kSlug}`);
      await page.getByRole('heading', { level: 1, name: kTitle }).waitFor();
      const zone = page.getByLabel('Time zone', { exact: true });
      assert.equal(await zone.inputValue(), kNewYork);

      // Paris's 09:00 is New York's 03:00 (or 04:00 in the weeks the two change clocks apart).
      await showMonthOf(page, there.day, { lng: 'en', next: 'Next month' });
      const date = longDate(there.day, 'en');
      await page.getByRole('button', { name: `${date}, 4 free times`, exact: true }).click();
      const list = page.getByRole('list', { name: `Free times on ${date}`, exact: true });
      const times = await shownTimes(list);
      assert.equal(times[0], time(kNewYork), `New York times: ${times}`);
      assert.notEqual(time(kNewYork), time(kParis));
      await page.getByText('Times in America/New York.', { exact: true }).waitFor();
      await screenshot(page, 'booking-en-new-york.png');

      // The day grid works from the keyboard: one day in the tab order, arrows move the focus,
      // Enter chooses.
      const focusedDay = () => page.evaluate(() => document.activeElement?.dataset.day ?? null);
      await page.getByRole('button', { name: `${date}, 4 free times`, exact: true }).focus();
      assert.equal(await page.locator('.day[tabindex="0"]').count(), 1);
      await page.keyboard.press('ArrowDown');
      const weekLater = addDays(there.day, 7);
      assert.equal(await focusedDay(), weekLater);
      assert.equal(await page.locator(`.day[data-day="${there.day}"]`).getAttribute('tabindex'), '-1');
      await page.keyboard.press('Enter');
      const later = longDate(weekLater, 'en');
      await page.getByRole('list', { name: `Free times on ${later}`, exact: true }).waitFor();
      // Back to the first day by pointer: after Enter the focus may already have moved on to
      // the slot list (seen once under load), so a second arrow key is not a stable check.
      await page.getByRole('button', { name: `${date}, 4 free times`, exact: true }).click();
      await list.waitFor();

      // Switching the zone shows Paris's own wall times.
      await zone.selectOption(kParis);
      await page.getByText(`Times in ${kParis}.`, { exact: true }).waitFor();
      await page.getByRole('button', { name: `${longDate(day, 'en')}, 4 free times` }).click();
      assert.equal((await shownTimes(page.locator('.slot-list')))[0], time(kParis));
      await zone.selectOption(kNewYork);
      await page.getByRole('button', { name: `${date}, 4 free times`, exact: true }).click();

      // Someone else books her slot while she types: she is told, and it is gone from the list.
      await list.getByRole('button', { name: time(kNewYork), exact: true }).click();
      await page.getByLabel('Your name', { exact: true }).fill('Ana Ruiz');
      await page.getByLabel('E-mail address', { exact: true }).fill('ana@example.org');
      await page.getByLabel(kQuestion.label, { exact: true }).fill('Suivi');
      await page.getByRole('checkbox').check();
      await api('POST', `/_ruche/v1/book/${kOwner}/${kSlug}`, {
        body: {
          start: isoUtc(nine),
          name: 'Someone Faster',
          email: 'faster@example.org',
          answers: { reason: 'Urgent' },
          consent: true,
        },
      });
      await page.getByRole('button', { name: 'Confirm the booking', exact: true }).click();
      await page
        .getByRole('alert')
        .filter({ hasText: 'Sorry, someone has just taken this time.' })
        .waitFor();
      await page.getByRole('button', { name: `${date}, 3 free times`, exact: true }).waitFor();
      await page.getByRole('button', { name: `${date}, 3 free times`, exact: true }).click();
      await list.waitFor();
      assert.ok(!(await shownTimes(list)).includes(time(kNewYork)), 'the taken time is offered');
      assert.equal((await ownerBookings()).filter((b) => b.name === 'Ana Ruiz').length, 0);
      await assertTranslated(page);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
