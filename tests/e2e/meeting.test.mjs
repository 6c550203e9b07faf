// Video meetings in real browsers against the real binary: three guests join one meeting from
// kiosk links (`&name=…&autojoin=1`) and each receives the two others' video (frames decoded,
// and still being decoded two seconds later) and audio through Ruche's SFU; mute and camera-off
// reach the others; one leaves and the others see it. Also the pre-join screen (name, preview,
// devices), a signed-in join, and the errors for a wrong key and for guests not admitted.
// Chromium runs with a synthetic camera and microphone (kMediaArgs).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  kMediaArgs,
  launchBrowser,
  newContext,
  screenshot,
  visibleRawKeys,
  watchPage,
} from './lib/browser.mjs';
import { kRelaxedLimits, serverApi, startServer } from './lib/ruche_server.mjs';

const kUser = 'alice';
const kPassword = 'correct horse 1';
// Generous: three browsers share the machine with the server (and maybe a compiler).
const kTimeoutMs = 30_000;
const kTestTimeoutMs = 180_000; // a whole test: several waits, each within kTimeoutMs
const kLong = { timeout: kTestTimeoutMs };
const kSampleGapMs = 2_000;

let server;
let browser;
let accessToken;

before(async () => {
  server = await startServer({ users: { [kUser]: kPassword } });
  browser = await launchBrowser({ extraArgs: kMediaArgs });
  accessToken = await logIn();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const api = (method, path, options) => serverApi(server, method, path, options);

async function logIn() {
  const answer = await api('POST', '/_matrix/client/v3/login', {
    body: {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: kUser },
      password: kPassword,
    },
  });
  return answer.access_token;
}

/** A new meeting; its join link as an absolute URL. */
async function createMeeting(title, allowGuests) {
  const meeting = await api('POST', '/_ruche/v1/meetings', {
    token: accessToken,
    body: { title, allow_guests: allowGuests },
  });
  assert.match(meeting.url, /^\/meet\/[^/?]+\?k=[A-Za-z0-9_-]+$/);
  return { ...meeting, link: server.url + meeting.url };
}

/** A fresh context (own storage, own fake devices) and page, its problems being recorded. */
async function openPage({ locale = 'en-US', storage } = {}) {
  const context = await newContext(browser, { locale, viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(kTimeoutMs);
  await context.grantPermissions(['camera', 'microphone'], { origin: server.url });
  if (storage) {
    await context.addInitScript((entries) => {
      for (const [key, value] of Object.entries(entries)) localStorage.setItem(key, value);
    }, storage);
  }
  const page = await context.newPage();
  const problems = watchPage(page);
  return { context, page, problems };
}

const participantsList = (page, count) =>
  page.getByRole('list', { name: `Participants (${count})`, exact: true });

/** Waits until the grid shows exactly `names` (any order) and returns them. */
async function waitForTiles(page, names) {
  const list = participantsList(page, names.length);
  await list.waitFor();
  await page.waitForFunction(
    (count) => document.querySelectorAll('.meeting-grid > li').length === count,
    names.length,
  );
  assert.equal(await list.getByRole('listitem').count(), names.length);
  const shown = await page.locator('.meeting-grid .tile__name').allTextContents();
  assert.deepEqual(shown.toSorted(), names.toSorted());
}

/** The receive connection's inbound-rtp reports (null before it exists). */
async function inboundStats(page) {
  return page.evaluate(async () => {
    const pc = window.__rucheMeeting?.recvPc;
    if (!pc) return null;
    const video = [];
    const audio = [];
    (await pc.getStats()).forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      const entry = {
        id: s.id,
        mid: s.mid,
        packetsReceived: s.packetsReceived ?? 0,
        packetsLost: s.packetsLost ?? 0,
        framesDecoded: s.framesDecoded ?? 0,
        frameWidth: s.frameWidth ?? 0,
        frameHeight: s.frameHeight ?? 0,
      };
      (s.kind === 'video' ? video : audio).push(entry);
    });
    return { video, audio };
  });
}

// Losing a few packets on loopback can happen while the connection starts; a stream that loses
// a real share of them is broken.
const fewLost = (s) => s.packetsLost <= Math.max(10, s.packetsReceived * 0.05);

/**
 * Waits until `page` decodes `videos` videos whose frame count rises between two samples
 * kSampleGapMs apart, and receives packets of `audios` audio streams. Returns the last sample.
 */
async function waitForMedia(page, { videos, audios }) {
  const deadline = Date.now() + kTimeoutMs;
  let last = null;
  for (;;) {
    const first = await inboundStats(page);
    await sleep(kSampleGapMs);
    const second = await inboundStats(page);
    last = { first, second };
    if (first && second) {
      const playing = second.video.filter((now) => {
        const before = first.video.find((s) => s.id === now.id);
        return (
          before &&
          now.framesDecoded > before.framesDecoded &&
          now.frameWidth > 0 &&
          now.frameHeight > 0 &&
          fewLost(now)
        );
      });
      const hearing = second.audio.filter((s) => s.packetsReceived > 0 && fewLost(s));
      if (playing.length >= videos && hearing.length >= audios) return second;
    }
    if (Date.now() > deadline) {
      const state = await page.evaluate(() => ({
        state: window.__rucheMeeting?.state,
        send: window.__rucheMeeting?.sendPc?.connectionState,
        recv: window.__rucheMeeting?.recvPc?.connectionState,
      }));
      assert.fail(
        `no ${videos} playing videos and ${audios} audios within ${kTimeoutMs} ms: ` +
          `${JSON.stringify(state)} ${JSON.stringify(last)}\n${server.output().slice(-4000)}`,
      );
    }
  }
}

/**
 * For the tests of the enclosing describe: a server of their own, started with `settings`
 * added to the relaxed limits; the suite's server and token come back after them. Returns the
 * list of opened pages, closed after them too.
 */
function withOwnServer(settings) {
  let mainServer;
  let mainToken;
  const pages = [];
  before(async () => {
    mainServer = server;
    mainToken = accessToken;
    server = await startServer({
      users: { [kUser]: kPassword },
      settings: { ...kRelaxedLimits, ...settings },
    });
    accessToken = await logIn();
  });
  after(async () => {
    for (const { context } of pages) await context.close();
    await server?.stop();
    server = mainServer;
    accessToken = mainToken;
  });
  return pages;
}

/** A new meeting joined by one guest page per name (kiosk links), added to `pages`. */
async function joinAsGuests(pages, title, names, open = openPage) {
  const meeting = await createMeeting(title, true);
  for (const name of names) {
    const p = await open();
    pages.push(p);
    await p.page.goto(`${meeting.link}&name=${encodeURIComponent(name)}&autojoin=1`);
  }
  return pages.slice(-names.length).map((p) => p.page);
}

/** The server's /metrics: the text, and one figure by name. */
async function serverMetrics() {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const get = (name) => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1]);
  return { text, get };
}

async function assertNoRawKeys(page) {
  assert.deepEqual(await visibleRawKeys(page), [], 'untranslated i18n keys are visible');
}

describe('three guests in one meeting', { timeout: kTestTimeoutMs * 2 }, () => {
  const kNames = ['Guest 1', 'Guest 2', 'Guest 3'];
  const guests = [];

  before(async () => {
    const meeting = await createMeeting('Weekly sync', true);
    for (const name of kNames) {
      const opened = await openPage();
      guests.push({ name, ...opened });
      // One after the other: each joins a meeting that already has the previous ones.
      await opened.page.goto(`${meeting.link}&name=${encodeURIComponent(name)}&autojoin=1`);
    }
  });
  after(async () => {
    for (const { context } of guests) await context?.close();
  });

  it('shows every participant on every page', kLong, async () => {
    await Promise.all(guests.map(({ page }) => waitForTiles(page, kNames)));
    for (const { page, name } of guests) {
      assert.equal(await page.title(), 'Weekly sync · Ruche');
      await page.getByRole('heading', { name: 'Weekly sync' }).waitFor();
      // Our own tile says so.
      await page.getByRole('listitem', { name: `${name} (you)` }).waitFor();
      const hook = await page.evaluate(() => ({
        id: window.__rucheMeeting?.participantId,
        state: window.__rucheMeeting?.state,
      }));
      assert.equal(hook.state, 'joined');
      assert.ok(hook.id, 'the test hook knows our participant id');
    }
  });

  it('receives the two others’ video and audio on every page', kLong, async () => {
    await Promise.all(guests.map(({ page }) => waitForMedia(page, { videos: 2, audios: 2 })));
    // Our own camera goes out on the send connection.
    for (const { page } of guests) {
      const sent = await page.evaluate(async () => {
        let packets = 0;
        (await window.__rucheMeeting.sendPc.getStats()).forEach((s) => {
          if (s.type === 'outbound-rtp' && s.kind === 'video') packets += s.packetsSent ?? 0;
        });
        return packets;
      });
      assert.ok(sent > 0, 'video packets were sent');
    }
    // Chromium accepted the header extensions Ruche writes toward subscribers (the media above
    // was demultiplexed by the mid those packets carry): mid and abs-send-time on every
    // section, the audio level on audio.
    for (const { page } of guests) {
      const answer = await page.evaluate(() => window.__rucheMeeting.recvPc.localDescription.sdp);
      const sections = answer.split(/\r\nm=/).slice(1);
      assert.ok(sections.length >= 4, answer);
      for (const section of sections) {
        if (/\r\na=inactive/.test(section)) continue;
        assert.match(section, /a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n/);
        assert.match(section, /a=extmap:2 http:\/\/www\.webrtc\.org\/experiments\/rtp-hdrext\/abs-send-time/);
        if (section.startsWith('audio')) {
          assert.match(section, /a=extmap:3 urn:ietf:params:rtp-hdrext:ssrc-audio-level/);
        }
      }
    }
    // Ruche's receiver reports reach each publisher: its browser then knows the loss, jitter and
    // round-trip time of what it sends (remote-inbound-rtp), for video and for audio.
    for (const { page } of guests) {
      const reported = () =>
        page.evaluate(async () => {
          const kinds = {};
          (await window.__rucheMeeting.sendPc.getStats()).forEach((s) => {
            if (s.type === 'remote-inbound-rtp' && typeof s.roundTripTime === 'number') {
              kinds[s.kind] = { rtt: s.roundTripTime, lost: s.packetsLost, jitter: s.jitter };
            }
          });
          return kinds;
        });
      const deadline = Date.now() + kTimeoutMs;
      let kinds = await reported();
      while (!(kinds.video && kinds.audio)) {
        assert.ok(Date.now() < deadline, `no receiver report with a round-trip time: ${JSON.stringify(kinds)}`);
        await sleep(500);
        kinds = await reported();
      }
      // Loopback, but three browsers on two cores: an audio report can wait a second in a busy
      // browser (1.05 s seen once). Wrong LSR/DLSR values give no figure or one of hours.
      for (const kind of ['video', 'audio']) {
        assert.ok(kinds[kind].rtt >= 0 && kinds[kind].rtt < 5, `${kind} round-trip time ${kinds[kind].rtt} s`);
        assert.equal(typeof kinds[kind].lost, 'number', `${kind} loss is reported`);
      }
    }
    // Ruche reports every packet's arrival (transport-wide feedback, every 100 ms), which
    // drives each publisher's congestion controller: its estimate of what the path takes climbs
    // above the browser's 300 kbit/s start (how far depends on how busy the machine is: 0.45 to
    // 3 Mbit/s seen). Feedback it could not read counts as loss and pulls the estimate down to
    // its floor (80 kbit/s seen).
    // Both connections negotiated AES-GCM, the profile Ruche prefers and encrypts through
    // OpenSSL (src/rtc/srtp_gcm.*): the browser decoding the video checks Ruche's encryption.
    for (const { page } of guests) {
      const ciphers = await page.evaluate(async () => {
        const out = [];
        for (const pc of [window.__rucheMeeting.sendPc, window.__rucheMeeting.recvPc]) {
          (await pc.getStats()).forEach((s) => {
            if (s.type === 'transport') out.push(s.srtpCipher);
          });
        }
        return out;
      });
      assert.deepEqual(ciphers, ['SRTP_AEAD_AES_128_GCM', 'SRTP_AEAD_AES_128_GCM']);
    }
    const feedback = (await serverMetrics()).get('ruche_rtc_transport_cc_feedback_total');
    assert.ok(feedback > 0, `no transport-wide feedback was sent: ${feedback}`);
    for (const { page, name } of guests) {
      const available = () =>
        page.evaluate(async () => {
          const stats = await window.__rucheMeeting.sendPc.getStats();
          let bitrate = 0;
          stats.forEach((s) => {
            if (s.type === 'transport' && s.selectedCandidatePairId) {
              bitrate = stats.get(s.selectedCandidatePairId)?.availableOutgoingBitrate ?? 0;
            }
          });
          return bitrate;
        });
      const deadline = Date.now() + kTimeoutMs;
      let bitrate = await available();
      while (bitrate <= 300_000) {
        assert.ok(Date.now() < deadline, `${name}'s send estimate stays at ${bitrate} bit/s`);
        await sleep(500);
        bitrate = await available();
      }
    }
    const { page } = guests[0];
    // The tiles show video, not avatars.
    assert.equal(await page.locator('.tile--camera-off').count(), 0);
    await assertNoRawKeys(page);
    await screenshot(page, 'meeting-3-guests.png');
  });

  it('shows the others when someone mutes the microphone and turns the camera off', async () => {
    const [first, second] = guests;
    const mute = first.page.getByRole('button', { name: 'Mute microphone' });
    const camera = first.page.getByRole('button', { name: 'Turn camera off' });
    assert.equal(await mute.getAttribute('aria-pressed'), 'false');
    await mute.click();
    await camera.click();
    assert.equal(await mute.getAttribute('aria-pressed'), 'true');
    assert.equal(await camera.getAttribute('aria-pressed'), 'true');
    const tile = second.page.getByRole('listitem', {
      name: 'Guest 1, microphone muted, camera off',
    });
    await tile.waitFor();
    await tile.locator('.tile__muted').waitFor();
    assert.equal((await tile.locator('.tile__avatar').textContent()).trim(), 'G1');
    await screenshot(second.page, 'meeting-muted-guest.png');

    await mute.click();
    await camera.click();
    assert.equal(await mute.getAttribute('aria-pressed'), 'false');
    await second.page.getByRole('listitem', { name: 'Guest 1', exact: true }).waitFor();
  });

  it('leaves, and the others see two tiles', kLong, async () => {
    const leaver = guests[2];
    await leaver.page.getByRole('button', { name: 'Leave meeting' }).click();
    await leaver.page.getByRole('heading', { name: 'You left the meeting' }).waitFor();
    await leaver.page.getByRole('button', { name: 'Rejoin' }).waitFor();
    const after = await leaver.page.evaluate(() => ({
      state: window.__rucheMeeting.state,
      send: window.__rucheMeeting.sendPc?.connectionState,
      recv: window.__rucheMeeting.recvPc.connectionState,
    }));
    assert.deepEqual(after, { state: 'left', send: 'closed', recv: 'closed' });
    await Promise.all(guests.slice(0, 2).map(({ page }) => waitForTiles(page, kNames.slice(0, 2))));
    // The two who stayed still see each other.
    await Promise.all(
      guests.slice(0, 2).map(({ page }) => waitForMedia(page, { videos: 1, audios: 1 })),
    );
  });

  it('rejoins from the "You left" screen', kLong, async () => {
    const leaver = guests[2];
    await leaver.page.getByRole('button', { name: 'Rejoin' }).click();
    await Promise.all(guests.map(({ page }) => waitForTiles(page, kNames)));
    await waitForMedia(leaver.page, { videos: 2, audios: 2 });
  });

  it('logged no console errors or CSP violations', () => {
    for (const { name, problems } of guests) assert.deepEqual(problems, [], name);
  });
});

describe('pre-join screen', { timeout: kTestTimeoutMs * 2 }, () => {
  let meeting;

  before(async () => {
    meeting = await createMeeting('Design review', true);
  });

  it('asks a guest for a name, previews the camera, then joins', kLong, async () => {
    const { context, page, problems } = await openPage();
    try {
      await page.goto(meeting.link);
      await page.getByRole('heading', { name: 'Design review' }).waitFor();
      assert.equal(await page.title(), 'Design review · Ruche');
      const name = page.getByLabel('Your name', { exact: true });
      await name.waitFor();
      // The preview plays the camera.
      await page.waitForFunction(() => {
        const video = document.querySelector('.preview__video');
        return video && video.videoWidth > 0 && !video.paused;
      });
      await page.getByRole('region', { name: 'Camera and microphone preview' }).waitFor();
      for (const label of ['Camera', 'Microphone']) {
        const select = page.getByLabel(label, { exact: true });
        assert.ok((await select.locator('option').count()) >= 1, `${label} choices`);
        assert.notEqual(await select.inputValue(), '');
      }
      await page.getByRole('button', { name: 'Mute microphone' }).waitFor();
      await page.getByRole('button', { name: 'Turn camera off' }).waitFor();
      const join = page.getByRole('button', { name: 'Join meeting' });
      await assertNoRawKeys(page);
      await screenshot(page, 'meeting-prejoin.png');

      // No name: explained, not sent.
      await join.click();
      await page.getByRole('alert').filter({ hasText: 'Enter your name' }).waitFor();

      await name.fill('Zoë Martin');
      await page.getByRole('button', { name: 'Mute microphone' }).click();
      await join.click();
      await waitForTiles(page, ['Zoë Martin']);
      const tile = page.getByRole('listitem', { name: 'Zoë Martin (you), microphone muted' });
      await tile.waitFor();
      const muted = page.getByRole('button', { name: 'Mute microphone' });
      assert.equal(await muted.getAttribute('aria-pressed'), 'true');
      await page.getByRole('button', { name: 'Leave meeting' }).click();
      await page.getByRole('heading', { name: 'You left the meeting' }).waitFor();
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('joins a signed-in user with their account', kLong, async () => {
    const stored = JSON.stringify({ userId: '@alice:localhost', accessToken, deviceId: '' });
    const { context, page, problems } = await openPage({ storage: { 'ruche.session': stored } });
    try {
      await page.goto(meeting.link);
      await page.getByText('Joining as').waitFor();
      await page.getByText('@alice:localhost', { exact: true }).waitFor();
      assert.equal(await page.getByLabel('Your name', { exact: true }).count(), 0);
      await page.getByRole('button', { name: 'Join meeting' }).click();
      await participantsList(page, 1).waitFor();
      const shown = await page.locator('.meeting-grid .tile__name').allTextContents();
      assert.equal(shown.length, 1);
      assert.match(shown[0], /alice/i);
      await page.getByRole('button', { name: 'Leave meeting' }).click();
      await page.getByRole('heading', { name: 'You left the meeting' }).waitFor();
      await page.getByRole('link', { name: 'Back to Ruche' }).waitFor();
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('is in French for a French browser', async () => {
    const { context, page, problems } = await openPage({ locale: 'fr-FR' });
    try {
      await page.goto(meeting.link);
      await page.getByLabel('Votre nom', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'Rejoindre la réunion' }).waitFor();
      await page.getByRole('button', { name: 'Couper le micro' }).waitFor();
      await assertNoRawKeys(page);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});

describe('meeting link errors', () => {
  it('explains a wrong key', async () => {
    const meeting = await createMeeting('Secret plans', true);
    const { context, page, problems } = await openPage();
    try {
      const wrong = `${server.url}/meet/${meeting.id}?k=AAAAAAAAAAAAAAAAAAAAAA&name=Eve&autojoin=1`;
      await page.goto(wrong);
      await page.getByRole('heading', { name: 'This meeting link does not work' }).waitFor();
      await page
        .getByRole('alert')
        .filter({ hasText: 'The meeting does not exist or the link is incomplete.' })
        .waitFor();
      // Nothing of the meeting leaks, and nothing was joined.
      assert.equal(await page.getByText('Secret plans').count(), 0);
      assert.equal(await page.evaluate(() => window.__rucheMeeting ?? null), null);
      await assertNoRawKeys(page);
      await screenshot(page, 'meeting-wrong-key.png');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('tells guests when a meeting is for members only', kLong, async () => {
    const meeting = await createMeeting('Board meeting', false);
    const { context, page, problems } = await openPage();
    try {
      await page.goto(meeting.link);
      await page.getByRole('heading', { name: 'Board meeting' }).waitFor();
      await page
        .getByRole('alert')
        .filter({ hasText: 'This meeting is for signed-in members only.' })
        .waitFor();
      assert.equal(await page.getByLabel('Your name', { exact: true }).count(), 0);

      // A kiosk link as a guest is refused by the server, and said so.
      await page.goto(`${meeting.link}&name=Mallory&autojoin=1`);
      await page.getByRole('heading', { name: 'You are not in the meeting' }).waitFor();
      await page
        .getByRole('alert')
        .filter({ hasText: 'This meeting is for signed-in members only.' })
        .waitFor();
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});

describe('packet loss', { timeout: kTestTimeoutMs * 2 }, () => {
  // A server whose SFU drops 5 % of media packets in each direction (rtc_test_loss_percent):
  // what reaches the subscriber must still be whole, through NACKs answered by the SFU's
  // retransmission buffer, and through the SFU's own NACKs to the publisher.
  const pages = withOwnServer({ rtc_test_loss_percent: 5 });

  it('recovers what the network lost: NACKs both ways, few packets missing', kLong, async (t) => {
    const [sender, receiver] = await joinAsGuests(pages, 'Lossy', ['Sender', 'Receiver']);
    await waitForTiles(receiver, ['Sender', 'Receiver']);
    // Video only: audio is not retransmitted (Opus conceals a lost 20 ms frame), so about
    // 10 % of it stays lost here, beyond what waitForMedia tolerates.
    await waitForMedia(receiver, { videos: 1, audios: 0 });
    const videoStats = () =>
      receiver.evaluate(async () => {
        let found = null;
        (await window.__rucheMeeting.recvPc.getStats()).forEach((s) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video') found = s;
        });
        return found;
      });
    // Loss over an 8 s window once playing (start-up excluded). Retransmissions travel on their
    // own RTX stream (RFC 4588), so the media stream's packetsLost is what the last leg lost
    // (about 5 %); what was recovered is counted in retransmittedPacketsReceived. Without any
    // recovery about 10 % would be missing (5 % dropped on each leg); with it, only those whose
    // retransmission was dropped too, or still on its way when the window closes.
    const start = await videoStats();
    await sleep(8_000);
    const video = await videoStats();
    const received = video.packetsReceived - start.packetsReceived;
    const lost = video.packetsLost - start.packetsLost;
    const recovered = video.retransmittedPacketsReceived - start.retransmittedPacketsReceived;
    // NACKs the publisher received, over its simulcast encodings.
    const sent = await sender.evaluate(async () => {
      const found = { nackCount: 0, retransmittedPacketsSent: 0 };
      (await window.__rucheMeeting.sendPc.getStats()).forEach((s) => {
        if (s.type === 'outbound-rtp' && s.kind === 'video') {
          found.nackCount += s.nackCount ?? 0;
          found.retransmittedPacketsSent += s.retransmittedPacketsSent ?? 0;
        }
      });
      return found;
    });
    const { text: metrics, get: metric } = await serverMetrics();
    const report = JSON.stringify({
      received,
      lost,
      video,
      sent,
      metrics: metrics.match(/^ruche_rtc_.*$/gm),
    });
    t.diagnostic(`video over 8 s: ${received} packets received, ${lost} lost, ` +
      `${recovered} recovered; NACKs: subscriber ${video.nackCount}, to publisher ${sent.nackCount}`);
    // The subscriber saw gaps and asked; the SFU resent from its buffer.
    assert.ok(video.nackCount > 0, `the subscriber sent no NACK: ${report}`);
    assert.ok(metric('ruche_rtc_retransmissions_total') > 0, report);
    // …on the RTX stream Ruche offered it (the browser knows its SSRC and counts what came).
    assert.equal(typeof video.rtxSsrc, 'number', `no RTX stream toward the subscriber: ${report}`);
    assert.ok(recovered > 0, `nothing was recovered through RTX: ${report}`);
    // The SFU saw gaps from the publisher and asked it; the browser answered on its own RTX
    // stream, which Ruche unwrapped (RFC 4588 §4) before storing and forwarding.
    assert.ok(metric('ruche_rtc_nacks_sent_total') > 0, report);
    assert.ok(sent.nackCount > 0, `the publisher received no NACK: ${report}`);
    assert.ok(sent.retransmittedPacketsSent > 0, report);
    assert.ok(metric('ruche_rtc_rtx_received_total') > 0, report);
    // About 5 % were dropped on the way out alone; what stays lost is a small fraction of that.
    assert.ok(metric('ruche_rtc_dropped_test_loss_total') > 0, report);
    assert.ok(received > 100, `too little video to judge: ${report}`);
    // The last leg's drops (~5 %) show as the media stream's loss; retransmissions do not hide
    // them. (Not compared with `recovered`: at the lowest layer, ~170 packets in 8 s, the two
    // counts are too small for a ratio; that comparison failed once in CI at 5 vs 10.)
    assert.ok(lost > 0, `the media stream's loss should show the last leg's: ${report}`);
    assert.ok(lost - recovered < (received + lost) * 0.03, `too many packets stayed lost: ${report}`);
    assert.ok(video.framesDecoded > 0);
  });
});

describe('ICE-TCP, when UDP cannot pass', { timeout: kTestTimeoutMs * 2 }, () => {
  // A network where UDP does not pass: the pages never see Ruche's UDP candidate (stripped
  // from every remote description before the browser reads it), so the only pair that can work
  // is the browser's active TCP candidate against Ruche's passive one on the media port
  // (RFC 6544). Media must then flow both ways over TCP.
  const pages = [];

  after(async () => {
    for (const { context } of pages) await context.close();
  });

  async function openUdpBlockedPage() {
    const opened = await openPage();
    await opened.context.addInitScript(() => {
      const original = RTCPeerConnection.prototype.setRemoteDescription;
      RTCPeerConnection.prototype.setRemoteDescription = function (description) {
        const sdp = description.sdp.replace(/^a=candidate:\S+ 1 udp .*\r\n/gm, '');
        if (sdp === description.sdp || !/ tcp .* tcptype passive/.test(sdp)) {
          throw new Error('expected a UDP and a passive TCP candidate from Ruche');
        }
        return original.call(this, { type: description.type, sdp });
      };
    });
    return opened;
  }

  /** The protocol of a connection's selected candidate pair, local and remote. */
  const selectedPair = (page, which) =>
    page.evaluate(async (key) => {
      const stats = await window.__rucheMeeting[key].getStats();
      let pairId = null;
      stats.forEach((s) => {
        if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
      });
      const pair = pairId && stats.get(pairId);
      if (!pair) return null;
      const local = stats.get(pair.localCandidateId);
      const remote = stats.get(pair.remoteCandidateId);
      return {
        local: local?.protocol,
        remote: remote?.protocol,
        remoteTcpType: remote?.tcpType,
        remotePort: remote?.port,
      };
    }, which);

  it('joins, sends and receives media over TCP', kLong, async (t) => {
    await joinAsGuests(pages, 'Behind a firewall', ['Alpha', 'Beta'], openUdpBlockedPage);
    await Promise.all(pages.map(({ page }) => waitForTiles(page, ['Alpha', 'Beta'])));
    await Promise.all(pages.map(({ page }) => waitForMedia(page, { videos: 1, audios: 1 })));
    for (const { page } of pages) {
      for (const which of ['sendPc', 'recvPc']) {
        const pair = await selectedPair(page, which);
        t.diagnostic(`${which}: ${JSON.stringify(pair)}`);
        assert.equal(pair?.local, 'tcp', `${which} is not on TCP: ${JSON.stringify(pair)}`);
        assert.equal(pair.remote, 'tcp');
        assert.equal(pair.remoteTcpType, 'passive');
      }
    }
  });
});

/** The subscriber's inbound video: frame width and frames decoded. */
const inboundVideo = (page) =>
  page.evaluate(async () => {
    let found = null;
    (await window.__rucheMeeting.recvPc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') found = s;
    });
    return found && { width: found.frameWidth ?? 0, decoded: found.framesDecoded ?? 0 };
  });

/** Waits until the subscriber decodes frames `width` wide, still rising. */
async function waitForWidth(page, width) {
  const deadline = Date.now() + kTimeoutMs;
  let last = null;
  for (;;) {
    const first = await inboundVideo(page);
    await sleep(1_000);
    const second = await inboundVideo(page);
    last = { first, second };
    if (first && second && second.width === width && second.decoded > first.decoded) return;
    if (Date.now() > deadline) {
      assert.fail(`no ${width}-wide frames within ${kTimeoutMs} ms: ${JSON.stringify(last)}`);
    }
  }
}

/** The publisher's encodings, as it sends them: rid, frame width, active. */
const publishedLayers = (page) =>
  page.evaluate(async () => {
    const out = [];
    (await window.__rucheMeeting.sendPc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        out.push({ rid: s.rid, width: s.frameWidth ?? 0, active: s.active });
      }
    });
    return out;
  });

describe('simulcast', { timeout: kTestTimeoutMs * 2 }, () => {
  // The publisher sends three encodings (rids q, h, f); the SFU gives each subscriber one and
  // switches on a key frame when the subscriber asks for another (preferred_layer).
  const pages = [];

  after(async () => {
    for (const { context } of pages) await context.close();
  });

  it('switches a subscriber from the high layer to the low one and back', kLong, async (t) => {
    const [pub, sub] = await joinAsGuests(pages, 'Simulcast', ['Pub', 'Sub']);
    await waitForMedia(sub, { videos: 1, audios: 1 });
    const layers = await publishedLayers(pub);
    const widths = layers.filter((l) => l.width > 0).map((l) => l.width).toSorted((a, b) => a - b);
    assert.ok(widths.length >= 2, `the publisher sends fewer than two layers: ${JSON.stringify(layers)}`);
    const [low, high] = [widths[0], widths.at(-1)];
    t.diagnostic(`publisher layers: ${JSON.stringify(layers)}`);
    const producerId = await sub.evaluate(() => window.__rucheMeeting.videoProducerIds[0]);
    assert.ok(producerId);
    const force = (layer) =>
      sub.evaluate(([id, l]) => window.__rucheMeeting.setPreferredLayer(id, l), [producerId, layer]);

    await force(2);
    await waitForWidth(sub, high);
    await force(0);
    await waitForWidth(sub, low);
    await force(2);
    await waitForWidth(sub, high);

    // The publisher's sender reports reach the subscriber, rewritten for its stream: the
    // browser then has remote-outbound-rtp figures (and the clock mapping lip sync needs).
    // (Polled from here: waitForFunction would take the async predicate's promise as truthy.)
    const remoteOutbound = () =>
      sub.evaluate(async () => {
        let sent = 0;
        (await window.__rucheMeeting.recvPc.getStats()).forEach((s) => {
          if (s.type === 'remote-outbound-rtp' && s.kind === 'video') sent = s.packetsSent ?? 0;
        });
        return sent;
      });
    const deadline = Date.now() + kTimeoutMs;
    while ((await remoteOutbound()) === 0) {
      assert.ok(Date.now() < deadline, 'no sender report reached the subscriber');
      await sleep(500);
    }
  });
});

describe('simulcast by bandwidth', { timeout: kTestTimeoutMs * 2 }, () => {
  // A subscriber whose downlink is narrow (the SFU polices each subscriber connection to
  // 150 kbit/s: rtc_test_subscriber_kbps) reports the loss in its receiver reports; Ruche steps
  // its video down to the layer the path takes, whatever layer it asked for, and keeps it
  // playing. (The synthetic camera's layers run at about 80 and 130 kbit/s, audio near 40.)
  const pages = withOwnServer({ rtc_test_subscriber_kbps: 150 });

  it('moves a subscriber on a narrow path to the lowest layer, and video keeps coming', kLong, async (t) => {
    const [pub, sub] = await joinAsGuests(pages, 'Narrow downlink', ['Pub', 'Sub']);
    await waitForTiles(sub, ['Pub', 'Sub']);
    // The publisher sends at least two layers; the subscriber wants the top one (the default).
    let widths = [];
    const deadline = Date.now() + kTimeoutMs;
    while (widths.length < 2) {
      assert.ok(Date.now() < deadline, 'the publisher never sent two layers');
      await sleep(500);
      widths = (await publishedLayers(pub)).filter((l) => l.width > 0).map((l) => l.width);
    }
    const lowest = Math.min(...widths);
    await waitForWidth(sub, lowest);
    const { text: metrics, get: metric } = await serverMetrics();
    t.diagnostic(`layers ${JSON.stringify(widths)}; ` +
      `downgrades ${metric('ruche_rtc_layer_downgrades_total')}, ` +
      `probes ${metric('ruche_rtc_layer_probes_total')}`);
    assert.ok(metric('ruche_rtc_layer_downgrades_total') > 0, metrics);
    assert.ok(metric('ruche_rtc_dropped_test_loss_total') > 0, metrics);
  });
});
