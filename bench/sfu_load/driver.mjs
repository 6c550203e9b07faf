// Signalling and measurements for bench/sfu_side_by_side.sh: joins PUBLISHERS publishers and then
// rising numbers of subscribers (each receiving every publisher) to one Janus VideoRoom room or
// one Ruche meeting, has the media client (ruche_sfu_load: all ICE, DTLS, SRTP and RTP, JSON
// lines on stdin/stdout) make and answer every SDP, and per step measures the server's CPU
// (utime + stime from /proc/<pid>/stat), its RSS and the client's packet and latency counters.
// Subscribers are added step by step; nobody leaves until the end.
//
//   node [--experimental-websocket] bench/sfu_load/driver.mjs --server janus|ruche --url URL
//        --pid SERVER_PID --client BIN --bind IP [--publishers 4] [--steps "10 25 50"]
//        [--step-s 10] [--warmup-s 2] [--video-kbps 1500] [--pacing-factor 0] [--user U --password P] (Ruche)
//        [--client-log FILE] [--out results.json]
//   node bench/sfu_load/driver.mjs --report janus.json ruche.json   → one Markdown table
//
// Needs Node 20 or later (global fetch; Ruche's WebSocket is Node's own, behind
// --experimental-websocket on Node 20). No npm package.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const kTicksPerSecond = 100; // USER_HZ on Debian's kernels: /proc/<pid>/stat counts in these
const kConnectTimeoutMs = 60_000;
const kRequestTimeoutMs = 20_000;
const kJoinConcurrency = 8; // joins in flight at once: the set-up is not what is measured

function log(...args) {
  console.error(`[driver ${new Date().toISOString().slice(11, 23)}]`, ...args);
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Runs `work(item)` over `items`, at most `limit` at once.
async function inPool(items, limit, work) {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await work(item);
    }
  });
  await Promise.all(runners);
}

// ---------------------------------------------------------------------------------------------
// Server process figures

async function cpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / kTicksPerSecond; // utime, stime (all threads)
}

async function rssKiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

// ---------------------------------------------------------------------------------------------
// The media client: one JSON object per line each way (see bench/sfu_load/README.md).

class MediaClient {
  constructor(bin, bindIp, logPath) {
    this.child = spawn(bin, ['--bind', bindIp], { stdio: ['pipe', 'pipe', 'pipe'] });
    const logFile = logPath ? createWriteStream(logPath) : null;
    this.child.stderr.on('data', (chunk) => logFile?.write(chunk));
    this.waiters = new Map(); // "ev:pc" → [{resolve, reject}]
    this.statsWaiters = [];
    this.connected = new Set();
    this.failed = new Map(); // pc → reason
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.exited.then((code) => {
      const error = new Error(`media client exited (${code}); see its log`);
      for (const list of this.waiters.values()) list.forEach((w) => w.reject(error));
      this.statsWaiters.forEach((w) => w.reject(error));
      this.waiters.clear();
      this.statsWaiters = [];
      this.dead = error;
    });
    this.child.stdin.on('error', () => {}); // a dead client is reported by `exited`
    createInterface({ input: this.child.stdout }).on('line', (line) => this.onLine(line));
  }

  onLine(line) {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      log(`media client printed a non-JSON line: ${line.slice(0, 200)}`);
      return;
    }
    switch (msg.ev) {
      case 'stats':
        this.statsWaiters.shift()?.resolve(msg);
        return;
      case 'connected':
        this.connected.add(msg.pc);
        break;
      case 'failed':
        this.failed.set(msg.pc, msg.reason ?? 'unknown');
        if (!this.closing) log(`peer connection ${msg.pc} failed: ${msg.reason}`);
        for (const [key, list] of this.waiters) {
          if (key.endsWith(`:${msg.pc}`)) {
            list.forEach((w) => w.reject(new Error(`${msg.pc} failed: ${msg.reason}`)));
            this.waiters.delete(key);
          }
        }
        return;
    }
    const key = `${msg.ev}:${msg.pc}`;
    const list = this.waiters.get(key);
    if (list?.length) {
      list.shift().resolve(msg);
      if (!list.length) this.waiters.delete(key);
    }
  }

  send(obj) {
    if (this.dead) throw this.dead;
    this.child.stdin.write(JSON.stringify(obj) + '\n');
  }

  // Sends `obj` and waits for the event `ev` about connection `pc`.
  request(obj, ev, pc) {
    const key = `${ev}:${pc}`;
    const reply = new Promise((resolve, reject) => {
      if (!this.waiters.has(key)) this.waiters.set(key, []);
      this.waiters.get(key).push({ resolve, reject });
    });
    this.send(obj);
    return withTimeout(reply, kRequestTimeoutMs, `${ev} for ${pc}`);
  }

  async createPublisher(pc) {
    return (await this.request({ cmd: 'create_publisher', pc }, 'local_offer', pc)).sdp;
  }

  setAnswer(pc, sdp) {
    this.send({ cmd: 'set_answer', pc, sdp });
  }

  async createSubscriber(pc, sdp) {
    return (await this.request({ cmd: 'create_subscriber', pc, sdp }, 'local_answer', pc)).sdp;
  }

  async updateOffer(pc, sdp) {
    return (await this.request({ cmd: 'update_offer', pc, sdp }, 'local_answer', pc)).sdp;
  }

  addCandidate(pc, candidate) {
    this.send({ cmd: 'add_candidate', pc, candidate });
  }

  startMedia(videoKbps, pacingFactor) {
    this.send({ cmd: 'start_media', video_kbps: videoKbps, pacing_factor: pacingFactor });
  }

  // Counters since the previous call.
  stats() {
    const reply = new Promise((resolve, reject) => this.statsWaiters.push({ resolve, reject }));
    this.send({ cmd: 'stats' });
    return withTimeout(reply, kRequestTimeoutMs, 'stats');
  }

  async waitConnected(pcs) {
    const deadline = Date.now() + kConnectTimeoutMs;
    for (;;) {
      const failed = pcs.filter((pc) => this.failed.has(pc));
      if (failed.length) {
        const reasons = failed.map((pc) => `${pc} (${this.failed.get(pc)})`);
        throw new Error(`peer connections failed: ${reasons.join(', ')}`);
      }
      const missing = pcs.filter((pc) => !this.connected.has(pc));
      if (!missing.length) return;
      if (this.dead) throw this.dead;
      if (Date.now() > deadline) {
        throw new Error(`not connected after ${kConnectTimeoutMs} ms: ${missing.join(', ')}`);
      }
      await sleep(50);
    }
  }

  async quit() {
    if (this.dead) return;
    this.send({ cmd: 'quit' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Janus over its HTTP transport: one Janus session per participant (as one browser tab would
// have), each with its own long-poll GET that also keeps it alive.

let transactionCounter = 0;
function newTransaction() {
  return `t${++transactionCounter}`;
}

async function postJson(url, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${url}: HTTP ${res.status}`);
  return res.json();
}

class JanusSession {
  constructor(base, id) {
    this.base = base;
    this.id = id;
    this.url = `${base}/${id}`;
    this.pending = new Map(); // transaction → {resolve, reject}
    this.onEvent = new Map(); // handle id → (event) => void, for events without our transaction
    this.closed = false;
    this.abort = new AbortController(); // Janus holds a long poll up to 30 s
    this.polling = this.poll();
  }

  static async create(base) {
    const reply = await postJson(base, { janus: 'create', transaction: newTransaction() });
    if (reply.janus !== 'success') throw new Error(`janus create: ${JSON.stringify(reply)}`);
    return new JanusSession(base, reply.data.id);
  }

  async poll() {
    while (!this.closed) {
      let events;
      try {
        const res = await fetch(`${this.url}?maxev=10&rid=${Date.now()}`, {
          signal: this.abort.signal,
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        events = await res.json();
      } catch (error) {
        if (this.closed) return;
        log(`janus session ${this.id}: long poll failed: ${error.message}`);
        await sleep(500);
        continue;
      }
      for (const event of Array.isArray(events) ? events : [events]) this.dispatch(event);
    }
  }

  dispatch(event) {
    if (event.janus === 'keepalive') return;
    const waiter = event.transaction && this.pending.get(event.transaction);
    if (waiter && event.janus !== 'ack') {
      this.pending.delete(event.transaction);
      waiter.resolve(event);
      return;
    }
    this.onEvent.get(event.sender)?.(event);
  }

  async attach() {
    const reply = await postJson(this.url, {
      janus: 'attach',
      plugin: 'janus.plugin.videoroom',
      transaction: newTransaction(),
    });
    if (reply.janus !== 'success') throw new Error(`janus attach: ${JSON.stringify(reply)}`);
    return reply.data.id;
  }

  // Sends a plugin request; resolves with the plugin's data and JSEP, from the HTTP answer for
  // synchronous requests (create) or from the long poll for asynchronous ones (join, publish…).
  async message(handle, body, jsep) {
    const transaction = newTransaction();
    const event = new Promise((resolve, reject) => {
      this.pending.set(transaction, { resolve, reject });
    });
    const request = { janus: 'message', transaction, body };
    if (jsep) request.jsep = jsep;
    const reply = await postJson(`${this.url}/${handle}`, request);
    let result = reply;
    if (reply.janus === 'ack') {
      result = await withTimeout(event, kRequestTimeoutMs, `janus ${body.request}`);
    } else {
      this.pending.delete(transaction);
    }
    if (result.janus === 'error') {
      throw new Error(`janus ${body.request}: ${result.error?.code} ${result.error?.reason}`);
    }
    const data = result.plugindata?.data ?? {};
    if (data.error_code || data.error) {
      throw new Error(`videoroom ${body.request}: ${data.error_code} ${data.error}`);
    }
    return { data, jsep: result.jsep };
  }

  async destroy() {
    this.closed = true;
    await postJson(this.url, { janus: 'destroy', transaction: newTransaction() }).catch(() => {});
    this.abort.abort();
    await this.polling.catch(() => {});
  }
}

class JanusBackend {
  constructor(opts, client) {
    this.base = opts.url;
    this.client = client;
    this.sessions = [];
    this.feeds = [];
    this.webrtcUp = new Set();
  }

  async setUp() {
    const info = await (await fetch(`${this.base}/info`)).json();
    this.label = `Janus ${info.version_string} VideoRoom`;
    const session = await JanusSession.create(this.base);
    this.sessions.push(session);
    const handle = await session.attach();
    this.room = 1 + Math.floor(Math.random() * 2 ** 31);
    // Like Ruche's meeting: Opus + VP8, REMB toward publishers at Ruche's default cap
    // (rtc_max_incoming_bitrate, 3 Mbit/s) and no hard cap, no periodic FIR, no recording, the
    // extensions Ruche also negotiates (mid, audio level — with talking events, as Ruche's
    // active speaker) and not those it does not (transport-wide CC, video orientation, playout
    // delay).
    const { data } = await session.message(handle, {
      request: 'create',
      room: this.room,
      permanent: false,
      description: 'bench',
      publishers: this.publisherCount,
      bitrate: 3_000_000,
      bitrate_cap: false,
      fir_freq: 0,
      audiocodec: 'opus',
      videocodec: 'vp8',
      record: false,
      notify_joining: false,
      audiolevel_ext: true,
      audiolevel_event: true,
      audio_active_packets: 100, // Janus's defaults, given: it warns when they are absent
      audio_level_average: 25,
      videoorient_ext: false,
      playoutdelay_ext: false,
      transport_wide_cc_ext: false,
    });
    if (data.videoroom !== 'created') throw new Error(`videoroom create: ${JSON.stringify(data)}`);
  }

  async newParticipant(pc) {
    const session = await JanusSession.create(this.base);
    this.sessions.push(session);
    const handle = await session.attach();
    session.onEvent.set(handle, (event) => {
      if (event.janus === 'trickle') {
        const candidate = event.candidate;
        if (candidate && !candidate.completed && candidate.candidate) {
          this.client.addCandidate(pc, candidate.candidate);
        }
      } else if (event.janus === 'webrtcup') {
        this.webrtcUp.add(pc);
      } else if (event.janus === 'hangup') {
        log(`janus hung up ${pc}: ${event.reason}`);
      }
    });
    return { session, handle };
  }

  // Janus lets subscribers in only once a publisher's media is set up (its `webrtcup` event,
  // which follows the client's DTLS handshake by a moment).
  async waitPublishing(pcs) {
    const deadline = Date.now() + kConnectTimeoutMs;
    while (pcs.some((pc) => !this.webrtcUp.has(pc))) {
      if (Date.now() > deadline) {
        throw new Error(`no webrtcup from janus: ${pcs.filter((pc) => !this.webrtcUp.has(pc))}`);
      }
      await sleep(20);
    }
  }

  async addPublisher(pc) {
    const { session, handle } = await this.newParticipant(pc);
    const joined = await session.message(handle, {
      request: 'join',
      ptype: 'publisher',
      room: this.room,
      display: pc,
    });
    this.feeds.push(joined.data.id);
    const offer = await this.client.createPublisher(pc);
    const { jsep } = await session.message(
      handle,
      { request: 'publish' },
      { type: 'offer', sdp: offer, trickle: false },
    );
    if (jsep?.type !== 'answer') throw new Error(`janus publish ${pc}: no answer`);
    this.client.setAnswer(pc, jsep.sdp);
  }

  async addSubscriber(pc) {
    const { session, handle } = await this.newParticipant(pc);
    const { jsep: offer } = await session.message(handle, {
      request: 'join',
      ptype: 'subscriber',
      room: this.room,
      streams: this.feeds.map((feed) => ({ feed })),
    });
    if (offer?.type !== 'offer') throw new Error(`janus subscribe ${pc}: no offer`);
    const answer = await this.client.createSubscriber(pc, offer.sdp);
    const jsep = { type: 'answer', sdp: answer, trickle: false };
    await session.message(handle, { request: 'start' }, jsep);
  }

  async tearDown() {
    await Promise.all(this.sessions.map((s) => s.destroy()));
  }
}

// ---------------------------------------------------------------------------------------------
// Ruche: a signed-in user creates the meeting; participants join it as guests, one WebSocket
// each (docs/api.md, "Meeting signalling").

class RucheSocket {
  constructor(url, name) {
    this.name = name;
    this.ws = new WebSocket(url);
    this.waiters = []; // {types, resolve, reject}
    this.handlers = new Map(); // type → handler, for messages that may come any time
    this.opened = new Promise((resolve, reject) => {
      this.ws.addEventListener('open', resolve, { once: true });
      this.ws.addEventListener('error', () => reject(new Error(`${name}: WebSocket error`)), {
        once: true,
      });
    });
    this.ws.addEventListener('message', (e) => this.onMessage(JSON.parse(e.data)));
    this.ws.addEventListener('close', (e) => {
      this.closedError = new Error(`${name}: socket closed (${e.code} ${e.reason})`);
      this.waiters.forEach((w) => w.reject(this.closedError));
      this.waiters = [];
    });
  }

  onMessage(msg) {
    const handler = this.handlers.get(msg.type);
    if (handler) {
      handler(msg);
      return;
    }
    const i = this.waiters.findIndex((w) => w.types.includes(msg.type) || msg.type === 'error');
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      if (msg.type === 'error') w.reject(new Error(`${this.name}: ${msg.code} ${msg.message}`));
      else w.resolve(msg);
      return;
    }
    if (msg.type === 'error') log(`${this.name}: ${msg.code} ${msg.message}`);
    // Anything else (participant_joined, producer_added, active_speaker…) is not needed here.
  }

  send(obj) {
    this.ws.send(JSON.stringify(obj));
  }

  // Waits for the next message of one of `types` (an `error` rejects).
  next(...types) {
    if (this.closedError) return Promise.reject(this.closedError);
    const reply = new Promise((resolve, reject) => this.waiters.push({ types, resolve, reject }));
    return withTimeout(reply, kRequestTimeoutMs, `${this.name}: ${types.join('|')}`);
  }

  close() {
    this.ws.close(1000);
  }
}

class RucheBackend {
  constructor(opts, client) {
    this.base = opts.url;
    this.user = opts.user;
    this.password = opts.password;
    this.client = client;
    this.sockets = [];
    this.producers = [];
  }

  async setUp() {
    this.label = 'Ruche';
    if (typeof WebSocket !== 'function') {
      throw new Error('no global WebSocket: run node with --experimental-websocket (Node 20)');
    }
    const login = await postJson(`${this.base}/_matrix/client/v3/login`, {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: this.user },
      password: this.password,
    });
    const res = await fetch(`${this.base}/_ruche/v1/meetings`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${login.access_token}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ title: 'bench', allow_guests: true }),
    });
    if (!res.ok) throw new Error(`create meeting: HTTP ${res.status} ${await res.text()}`);
    const meeting = await res.json();
    this.meetingId = meeting.id;
    this.key = new URL(meeting.url, this.base).searchParams.get('k');
    this.wsUrl = `${this.base.replace(/^http/, 'ws')}/_ruche/v1/meetings/${meeting.id}/ws`;
  }

  async join(pc) {
    const socket = new RucheSocket(this.wsUrl, pc);
    this.sockets.push(socket);
    await withTimeout(socket.opened, kRequestTimeoutMs, `${pc}: WebSocket open`);
    const joined = socket.next('joined');
    socket.send({ type: 'join', key: this.key, display_name: pc });
    await joined;
    return socket;
  }

  async addPublisher(pc) {
    const socket = await this.join(pc);
    const offer = await this.client.createPublisher(pc);
    const answered = socket.next('publish_answer');
    socket.send({ type: 'publish', sdp: offer });
    const answer = await answered;
    this.producers.push(...answer.producers.map((p) => p.producer_id));
    this.client.setAnswer(pc, answer.sdp);
  }

  async addSubscriber(pc) {
    const socket = await this.join(pc);
    // The first offer creates the receive connection; a later one (changes Ruche folded while
    // an answer was outstanding) renegotiates it. Offers are answered one at a time, in order.
    let created = false;
    let chain = Promise.resolve();
    let firstAnswered;
    const answeredOnce = new Promise((resolve, reject) => (firstAnswered = { resolve, reject }));
    socket.handlers.set('subscribe_offer', (msg) => {
      chain = chain.then(async () => {
        try {
          const answer = created
            ? await this.client.updateOffer(pc, msg.sdp)
            : await this.client.createSubscriber(pc, msg.sdp);
          created = true;
          socket.send({ type: 'subscribe_answer', sdp: answer });
          firstAnswered.resolve();
        } catch (error) {
          log(`${pc}: answering subscribe_offer: ${error.message}`);
          firstAnswered.reject(error);
        }
      });
    });
    socket.send({ type: 'subscribe', producer_ids: this.producers });
    await withTimeout(answeredOnce, kRequestTimeoutMs * 2, `${pc}: subscribe`);
  }

  async waitPublishing() {} // producers exist from publish_answer on

  async tearDown() {
    for (const s of this.sockets) s.close();
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------------------------
// The run

async function measure(opts) {
  const client = new MediaClient(opts.client, opts.bind, opts['client-log']);
  const backend =
    opts.server === 'janus' ? new JanusBackend(opts, client) : new RucheBackend(opts, client);
  const publishers = Number(opts.publishers);
  const steps = opts.steps.trim().split(/[\s,]+/).map(Number);
  const stepS = Number(opts['step-s']);
  const warmupS = Number(opts['warmup-s']);
  const videoKbps = Number(opts['video-kbps']);
  const pacingFactor = Number(opts['pacing-factor']);
  const pid = Number(opts.pid);
  backend.publisherCount = publishers;
  const result = {
    server: opts.server,
    publishers,
    video_kbps: videoKbps,
    pacing_factor: pacingFactor,
    step_s: stepS,
    warmup_s: warmupS,
    steps: [],
  };
  try {
    result.idle_rss_kib = await rssKiB(pid);
    await backend.setUp();
    result.label = backend.label;
    const pubNames = Array.from({ length: publishers }, (_, i) => `pub${i}`);
    log(`${opts.server}: joining ${publishers} publishers`);
    for (const pc of pubNames) await backend.addPublisher(pc); // in order: feeds/producers list
    await client.waitConnected(pubNames);
    await backend.waitPublishing(pubNames);
    let rssBefore = result.idle_rss_kib;
    let joinedInStep = publishers;
    let subscribers = 0;
    let mediaStarted = false;
    for (const target of steps) {
      const names = [];
      for (let i = subscribers; i < target; i++) names.push(`sub${i}`);
      log(`${opts.server}: joining ${names.length} subscribers (→ ${target})`);
      const t = performance.now();
      await inPool(names, kJoinConcurrency, (pc) => backend.addSubscriber(pc));
      await client.waitConnected([...pubNames, ...names]);
      const took = ((performance.now() - t) / 1000).toFixed(1);
      log(`${opts.server}: ${target} subscribers connected in ${took} s`);
      subscribers = target;
      joinedInStep += names.length;
      if (!mediaStarted) {
        client.startMedia(videoKbps, pacingFactor);
        mediaStarted = true;
      }
      await sleep(warmupS * 1000);
      await client.stats(); // resets the client's counters
      const cpu0 = await cpuSeconds(pid);
      const t0 = performance.now();
      await sleep(stepS * 1000);
      const stats = await client.stats();
      const cpu1 = await cpuSeconds(pid);
      const window = (performance.now() - t0) / 1000;
      const rss = await rssKiB(pid);
      const cpu = cpu1 - cpu0;
      const received = stats.received_packets;
      const step = {
        subscribers,
        participants: publishers + subscribers,
        window_s: window,
        sent_packets: stats.sent_packets,
        received_packets: received,
        received_bytes: stats.received_bytes,
        forwarded_per_s: received / window,
        // Every packet a publisher sends should reach every subscriber.
        delivered_ratio: stats.sent_packets ? received / (stats.sent_packets * subscribers) : 0,
        server_cpu_s: cpu,
        server_cpu_pct: (100 * cpu) / window,
        cpu_us_per_packet: received ? (cpu * 1e6) / received : null,
        latency_count: stats.latency_us?.count ?? 0,
        latency_p50_us: stats.latency_us?.p50 ?? null,
        latency_p99_us: stats.latency_us?.p99 ?? null,
        latency_p90_us: stats.latency_us?.p90 ?? null,
        latency_p999_us: stats.latency_us?.p999 ?? null,
        rss_kib: rss,
        rss_per_participant_kib: (rss - rssBefore) / joinedInStep,
        client_cpu_pct: (100 * (stats.cpu_s ?? 0)) / window,
        failed_connections: client.failed.size,
      };
      if (client.failed.size) log(`${opts.server}: ${client.failed.size} peer connections failed`);
      result.steps.push(step);
      log(`${opts.server}: ${JSON.stringify(step)}`);
      rssBefore = rss;
      joinedInStep = 0;
    }
  } finally {
    client.closing = true; // connections failing as the server drops them is no news
    await backend.tearDown().catch((e) => log(`tear-down: ${e.message}`));
    await client.quit();
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Report: one Markdown table over the results files, a row per step and server, Ruche's rows
// with their CPU per packet as a ratio of Janus's at the same step.

function fixed(x, digits) {
  return x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits);
}

async function report(files) {
  const runs = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8'))));
  const janus = runs.find((r) => r.server === 'janus');
  const lines = [
    '| subscribers | server | forwarded pkt/s | delivered | server CPU | CPU per forwarded pkt ' +
      '| vs Janus | latency p50 / p99 | RSS | RSS per participant | client CPU |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const counts = [...new Set(runs.flatMap((r) => r.steps.map((s) => s.subscribers)))];
  counts.sort((a, b) => a - b);
  for (const n of counts) {
    for (const run of runs) {
      const s = run.steps.find((x) => x.subscribers === n);
      if (!s) continue;
      const peer = janus?.steps.find((x) => x.subscribers === n);
      const ratio =
        run.server !== 'janus' && peer?.cpu_us_per_packet && s.cpu_us_per_packet
          ? `${(s.cpu_us_per_packet / peer.cpu_us_per_packet).toFixed(2)}×`
          : '';
      const latency = s.latency_count
        ? `${fixed(s.latency_p50_us / 1000, 2)} / ${fixed(s.latency_p99_us / 1000, 2)} ms`
        : '–';
      lines.push(
        `| ${n} | ${run.label ?? run.server} | ${fixed(s.forwarded_per_s, 0)} ` +
          `| ${fixed(100 * s.delivered_ratio, 1)} % | ${fixed(s.server_cpu_pct, 1)} % ` +
          `| ${fixed(s.cpu_us_per_packet, 2)} µs | ${ratio} | ${latency} ` +
          `| ${fixed(s.rss_kib / 1024, 1)} MiB | ${fixed(s.rss_per_participant_kib, 0)} KiB ` +
          `| ${fixed(s.client_cpu_pct, 1)} % |`,
      );
    }
  }
  console.log(lines.join('\n'));
  const saturated = runs.flatMap((r) =>
    r.steps.filter((s) => s.client_cpu_pct > 90).map((s) => `${r.server} at ${s.subscribers}`),
  );
  if (saturated.length) {
    console.log(
      `\n**The media client used more than 90 % of its core** (${saturated.join(', ')}): ` +
        'there the figures measure the client, not the server.',
    );
  }
  const failed = runs.flatMap((r) =>
    r.steps.filter((s) => s.failed_connections).map((s) => `${r.server} at ${s.subscribers}`),
  );
  if (failed.length) console.log(`\n**Peer connections failed** (${failed.join(', ')}).`);
  console.log(
    '\nforwarded pkt/s: RTP packets received by all subscribers per second; delivered: of the ' +
      'packets the publishers sent × subscribers; server CPU: utime + stime of the server ' +
      'process over the window, % of one core; RSS per participant: RSS growth over the step ' +
      '÷ participants who joined in it (the first step counts the publishers, from the idle ' +
      'server); client CPU: the media client (ruche_sfu_load), % of one core.',
  );
}

// ---------------------------------------------------------------------------------------------

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    report: { type: 'boolean' },
    server: { type: 'string' },
    url: { type: 'string' },
    pid: { type: 'string' },
    client: { type: 'string' },
    bind: { type: 'string' },
    publishers: { type: 'string', default: '4' },
    steps: { type: 'string', default: '10 25 50' },
    'step-s': { type: 'string', default: '10' },
    'warmup-s': { type: 'string', default: '2' },
    'video-kbps': { type: 'string', default: '1500' },
    'pacing-factor': { type: 'string', default: '0' },
    user: { type: 'string' },
    password: { type: 'string' },
    'client-log': { type: 'string' },
    out: { type: 'string' },
  },
});

if (opts.report) {
  await report(positionals);
} else {
  for (const required of ['server', 'url', 'pid', 'client', 'bind']) {
    if (!opts[required]) throw new Error(`--${required} is required`);
  }
  if (!['janus', 'ruche'].includes(opts.server)) throw new Error('--server is janus or ruche');
  if (opts.server === 'ruche' && !(opts.user && opts.password)) {
    throw new Error('--user and --password are required for Ruche');
  }
  const result = await measure(opts);
  const text = JSON.stringify(result, null, 2) + '\n';
  if (opts.out) await writeFile(opts.out, text);
  else process.stdout.write(text);
  process.exit(0); // lingering keep-alive sockets must not hold the run
}
