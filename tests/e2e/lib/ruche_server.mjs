// Starts and stops the real `ruche` binary for browser tests (the same contract as
// tests/lib/ruche_test.py): a temp data folder, `admin create-user` before `serve`, the URL read
// from the `ruche: listening on http://…` line, SIGTERM to stop (SIGKILL after 10 s).
import { execFile, spawn } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const kRepoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const kRucheBin = process.env.RUCHE_BIN || join(kRepoRoot, 'build', 'ruche');
export const kWebRoot = process.env.RUCHE_WEB_ROOT || join(kRepoRoot, 'web', 'dist');
export const kArtifacts = process.env.RUCHE_ARTIFACTS || join(kRepoRoot, 'test-artifacts');

const kStartTimeoutMs = 20_000;
const kStopTimeoutMs = 10_000;
const kListeningRe = /ruche: listening on (http:\/\/[^\s/]+)/;

// Rate limits high enough that a test file's handful of logins is never throttled; a test of
// the limits passes its own values in `settings`.
export const kRelaxedLimits = {
  'limits.login_per_ip_burst': '1000000',
  'limits.login_per_ip_per_second': '1000',
  'limits.login_failures_per_user_burst': '1000000',
  'limits.login_failures_per_user_per_second': '1000',
  'limits.send_per_user_burst': '1000000',
  'limits.send_per_user_per_second': '1000000',
  'limits.send_per_room_burst': '1000000',
  'limits.send_per_room_per_second': '1000000',
};

/** Our environment without RUCHE_*: the server reads RUCHE_<KEY> as configuration. */
function childEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RUCHE_')));
}

/**
 * A running `ruche serve` on a free loopback port with its own data folder.
 * `users` ({name: password}) are created with `admin create-user` before the server starts.
 */
export async function startServer({ users = {}, settings = kRelaxedLimits } = {}) {
  await access(kRucheBin).catch(() => {
    throw new Error(`no ruche binary at ${kRucheBin}: run \`make build\` or set RUCHE_BIN`);
  });
  await access(join(kWebRoot, 'index.html')).catch(() => {
    throw new Error(`no web client in ${kWebRoot}: run \`make web\` or set RUCHE_WEB_ROOT`);
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'ruche-e2e-'));
  try {
    for (const [name, password] of Object.entries(users)) {
      await promisify(execFile)(
        kRucheBin,
        ['admin', 'create-user', name, '--password', password, '--data', dataDir],
        { env: childEnv(), timeout: 60_000 },
      );
    }
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw new Error(`ruche admin create-user failed: ${error.message}\n${error.stderr ?? ''}`);
  }

  // --rtc-udp-port 0: any free media port, so test servers run side by side.
  const args = ['serve', '--listen', '127.0.0.1:0', '--data', dataDir, '--server-name',
    'localhost', '--web-root', kWebRoot, '--no-bootstrap-admin', '--rtc-udp-port', '0'];
  for (const [key, value] of Object.entries(settings)) args.push('--set', `${key}=${value}`);
  const child = spawn(kRucheBin, args, { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });

  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  const server = {
    url: '',
    dataDir,
    pid: child.pid,
    output: () => `--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), kStopTimeoutMs);
        await exited;
        clearTimeout(timer);
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };

  try {
    server.url = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`ruche printed no listening line within ${kStartTimeoutMs} ms`)),
        kStartTimeoutMs,
      );
      const onData = () => {
        const match = kListeningRe.exec(stdout);
        if (match) {
          clearTimeout(timer);
          child.stdout.off('data', onData);
          resolve(match[1]);
        }
      };
      child.stdout.on('data', onData);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`ruche exited before listening (code ${code}, signal ${signal})`));
      });
    });
  } catch (error) {
    await server.stop();
    const command = `${kRucheBin} ${args.join(' ')}`;
    throw new Error(`${error.message}\ncommand: ${command}\n${server.output()}`);
  }
  return server;
}

/**
 * A JSON call to `server` (`path` from the root: "/_ruche/v1/…", "/_matrix/client/v3/…"),
 * with `token` as Bearer when given; the parsed answer, or an Error naming the status.
 */
export async function serverApi(server, method, path, { token, body } = {}) {
  const response = await fetch(server.url + path, {
    method,
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(payload)}`);
  }
  return payload;
}
