// SFU forwarding cost: PARTICIPANTS Chromium pages in one meeting (each with a fake 640x360
// camera sent as simulcast, and Opus), each receiving everyone else, for SECONDS; prints packets forwarded per
// second, the server's CPU time per forwarded packet (utime + stime of the ruche process from
// /proc/<pid>/stat over the window, divided by ruche_rtc_rtp_forwarded_total's growth) and its
// RSS. The browsers share the machine's cores with the server: the figure is CPU per packet,
// not a saturation point.
//   node bench/sfu_forwarding.mjs            (env: PARTICIPANTS=4, SECONDS=20, RUCHE_BIN)
// Peer to compare with: Janus VideoRoom (not run by this script yet; see docs/benchmarks.md).
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { kMediaArgs, launchBrowser, newContext } from '../tests/e2e/lib/browser.mjs';
import { kRelaxedLimits, startServer } from '../tests/e2e/lib/ruche_server.mjs';

const kParticipants = Number(process.env.PARTICIPANTS ?? 4);
const kSeconds = Number(process.env.SECONDS ?? 20);
const kTicks = 100; // USER_HZ on Debian's kernels

async function cpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / kTicks; // utime, stime
}

async function rssMiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

async function metric(server, name) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

const server = await startServer({ users: { bench: 'correct horse 1' }, settings: kRelaxedLimits });
const browser = await launchBrowser({ extraArgs: kMediaArgs });
try {
  const login = await (
    await fetch(`${server.url}/_matrix/client/v3/login`, {
      method: 'POST',
      body: JSON.stringify({
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: 'bench' },
        password: 'correct horse 1',
      }),
    })
  ).json();
  const meeting = await (
    await fetch(`${server.url}/_ruche/v1/meetings`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${login.access_token}` },
      body: JSON.stringify({ title: 'Bench', allow_guests: true }),
    })
  ).json();
  const link = server.url + meeting.url;
  const open = async (name) => {
    const context = await newContext(browser, { viewport: { width: 640, height: 480 } });
    await context.grantPermissions(['camera', 'microphone'], { origin: server.url });
    const page = await context.newPage();
    await page.goto(`${link}&name=${name}&autojoin=1`);
    return page;
  };
  for (let i = 0; i < kParticipants; i++) await open(`P${i}`);
  await sleep(8_000); // connections up, key frames, bitrates ramped
  const before = {
    cpu: await cpuSeconds(server.pid),
    forwarded: await metric(server, 'ruche_rtc_rtp_forwarded_total'),
    at: performance.now(),
  };
  await sleep(kSeconds * 1000);
  const after = {
    cpu: await cpuSeconds(server.pid),
    forwarded: await metric(server, 'ruche_rtc_rtp_forwarded_total'),
    at: performance.now(),
  };
  const seconds = (after.at - before.at) / 1000;
  const packets = after.forwarded - before.forwarded;
  const cpu = after.cpu - before.cpu;
  console.log(`| participants | forwarded packets/s | server CPU | CPU per forwarded packet | RSS |`);
  console.log(`|---|---|---|---|---|`);
  console.log(
    `| ${kParticipants} | ${(packets / seconds).toFixed(0)} | ${((cpu / seconds) * 100).toFixed(1)} % ` +
      `| ${((cpu / packets) * 1e6).toFixed(1)} µs | ${(await rssMiB(server.pid)).toFixed(1)} MiB |`,
  );
} finally {
  await browser.close();
  await server.stop();
}
