"""Debian's Thunderbird, headless, driven through Marionette for the CalDAV interop test.

`Thunderbird` starts `thunderbird --headless --marionette` on a fresh temporary profile (its own
session and process group, HOME in the same temporary folder, killed if the test process dies),
connects, switches to the chrome context and runs the calendar code of the "New Calendar → On
the Network" dialog (chrome/calendar/content/calendar-creation.js in omni.ja):

- `detect` is the dialog's *Find Calendars*: `cal.provider.detection.detect(username, password,
  location, savePassword, [], {})`. For a location that is a bare origin the CalDAV provider
  tries, in order: Google OAuth (MX lookup), the location itself (skipped for "/"), DNS SRV
  `_caldav._tcp`, `/.well-known/caldav`, then "/". Each hop is a PROPFIND that follows
  current-user-principal → calendar-home-set → the calendars (CalDavProvider.sys.mjs).
- `subscribe` is its *Subscribe*: each found calendar gets "cache.enabled" (the dialog's
  "Offline support" box, ticked by default) and is passed to `cal.manager.registerCalendar`.
- Items are read and written through the registered (cached) calendar, as the calendar views
  and the event dialog do: `getItemsAsArray`, `addItem`, `modifyItem`, `deleteItem`.

Every call is bounded (Marionette socket and script timeouts); `close` asks Thunderbird to quit,
waits, then SIGKILLs whatever is left of its process group.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from marionette import Marionette

START_TIMEOUT_S = 60.0
SCRIPT_TIMEOUT_S = 45.0

# What a first start of a real Thunderbird would ask or do that a test must not wait for.
USER_PREFS = {
    "marionette.port": 0,  # any free port; Marionette writes it to <profile>/MarionetteActivePort
    # Marionette's "recommended preferences" turn the password manager off; a user's Thunderbird
    # has it on, and the dialog saves the CalDAV password there for the calendar's later syncs.
    "signon.rememberSignons": True,
    "mail.provider.suppress_dialog_on_startup": True,  # no account setup wizard
    "mail.shell.checkDefaultClient": False,
    "mailnews.start_page.enabled": False,
    "mail.rights.version": 1,  # no "know your rights" bar
    "app.update.enabled": False,
    "app.update.auto": False,
    "extensions.update.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.enabled": False,
    # The user's time zone for the views; the events carry their own.
    "calendar.timezone.useSystemTimezone": False,
    "calendar.timezone.local": "Europe/Paris",
    # The calendar code's log on stdout (shown when a test fails, scanned for errors).
    "calendar.loglevel": "Debug",
    "browser.dom.window.dump.enabled": True,
    "devtools.console.stdout.chrome": True,
}

# Loaded by every script: the calendar utilities and a per-window place for test state.
_PRELUDE = """
const { cal } = ChromeUtils.importESModule("resource:///modules/calendar/calUtils.sys.mjs");
const { CalEvent } = ChromeUtils.importESModule("resource:///modules/CalEvent.sys.mjs");
const state = (window.__rucheTest ??= { observers: {} });
function calendarById(id) {
  const calendar = cal.manager.getCalendarById(id);
  if (!calendar) throw new Error("no calendar " + id);
  return calendar;
}
function describe(item) {
  const utc = cal.timezoneService.UTC;
  const paris = cal.timezoneService.getTimezone("Europe/Paris");
  return {
    id: item.id,
    title: item.title,
    start_tz: item.startDate.timezone.tzid,
    start_utc: item.startDate.getInTimezone(utc).icalString,
    start_paris: item.startDate.getInTimezone(paris).icalString,
    end_utc: item.endDate.getInTimezone(utc).icalString,
    recurrence_id: item.recurrenceId ? item.recurrenceId.getInTimezone(utc).icalString : null,
    recurring: !!(item.parentItem && item.parentItem.recurrenceInfo),
  };
}
"""


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the test process dies without cleaning up (killed by
    scripts/run-tests.sh's time limit, which signals only its own process group while Thunderbird
    has a session of its own). prctl(PR_SET_PDEATHSIG) survives the wrapper script's exec."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


class ThunderbirdMissing(RuntimeError):
    pass


def thunderbird_binary() -> str:
    """The `thunderbird` on PATH, or ThunderbirdMissing with what to do about it."""
    found = shutil.which("thunderbird")
    if found is None:
        raise ThunderbirdMissing(
            "thunderbird is not installed: run scripts/install-deps.sh (Debian's `thunderbird` "
            "package) to run the Thunderbird CalDAV interop test")
    return found


def _pref_line(name: str, value) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = str(value)
    else:
        text = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f'user_pref("{name}", {text});\n'


class DetectionFailed(AssertionError):
    """cal.provider.detection.detect rejected (AuthFailedError, NoneFoundError, ...)."""

    def __init__(self, name: str, message: str):
        self.name = name
        super().__init__(f"calendar detection failed: {name}: {message}")


class Thunderbird:
    def __init__(self):
        self.binary = thunderbird_binary()
        self.tmp = Path(tempfile.mkdtemp(prefix="ruche-thunderbird-"))
        self.profile = self.tmp / "profile"
        self.profile.mkdir()
        self.log_path = self.tmp / "thunderbird.log"
        self.proc: subprocess.Popen | None = None
        self.marionette: Marionette | None = None
        self.version = ""

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "Thunderbird":
        (self.profile / "user.js").write_text(
            "".join(_pref_line(k, v) for k, v in USER_PREFS.items()))
        env = dict(os.environ)
        env.update({"HOME": str(self.tmp), "XDG_CACHE_HOME": str(self.tmp / "cache"),
                    "XDG_CONFIG_HOME": str(self.tmp / "config"), "MOZ_HEADLESS": "1",
                    "MOZ_CRASHREPORTER_DISABLE": "1"})
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(
                [self.binary, "--headless", "--marionette",
                 # Without it Marionette refuses the chrome context (privileged scripts).
                 "-remote-allow-system-access",
                 "-profile", str(self.profile), "-no-remote"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                start_new_session=True, preexec_fn=_die_with_parent)
        finally:
            log.close()
        port_file = self.profile / "MarionetteActivePort"
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.proc.poll() is not None:
                raise RuntimeError(f"thunderbird exited with {self.proc.returncode} at start\n"
                                   + self.log_tail())
            if time.monotonic() > deadline:
                raise RuntimeError(f"thunderbird's Marionette did not start within "
                                   f"{START_TIMEOUT_S:.0f}s\n" + self.log_tail())
            time.sleep(0.1)
        port = int(port_file.read_text().strip())
        self.marionette = Marionette.connect("127.0.0.1", port,
                                             deadline_s=deadline - time.monotonic())
        caps = self.marionette.new_session()["capabilities"]
        self.version = caps.get("browserVersion", "")
        self.marionette.set_context("chrome")
        self.marionette.set_script_timeout(SCRIPT_TIMEOUT_S)
        # Marionette listens before the main window has finished loading.
        self.run("""
            while (window.document.readyState != "complete") {
              await new Promise(resolve => setTimeout(resolve, 50));
            }
        """)
        return self

    def close(self) -> None:
        if self.marionette is not None:
            try:
                self.marionette.quit()
            except Exception:  # noqa: BLE001 (a stuck Thunderbird is killed below)
                pass
            self.marionette.close()
            self.marionette = None
        if self.proc is not None:
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # helpers it may have left
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, chars: int = 6000) -> str:
        return "--- thunderbird output ---\n" + self.log_text()[-chars:]

    def run(self, body: str, *args):
        assert self.marionette is not None
        return self.marionette.run(_PRELUDE + body, list(args))

    # -- the "On the Network" dialog -----------------------------------------------------------

    def detect(self, username: str, password: str, location: str) -> list[dict]:
        """*Find Calendars* with the password given (saved in the password manager, as when the
        user leaves "Remember password" ticked). Returns the calendars found; raises
        DetectionFailed when detection rejects."""
        result = self.run("""
            const [username, password, location] = arguments;
            let found;
            try {
              found = await cal.provider.detection.detect(username, password, location, true,
                                                          [], {});
            } catch (e) {
              return { error: e.name || String(e), message: e.message || "" };
            }
            state.detected = [];
            const out = [];
            for (const [provider, calendars] of found) {
              for (const calendar of calendars) {
                state.detected.push({ provider: provider.type, calendar });
                out.push({ provider: provider.type, name: calendar.name, uri: calendar.uri.spec,
                           read_only: calendar.readOnly, id: calendar.id });
              }
            }
            return { calendars: out };
        """, username, password, location)
        if "error" in result:
            raise DetectionFailed(result["error"], result["message"])
        return result["calendars"]

    def subscribe(self, uri: str, provider: str = "caldav") -> str:
        """*Subscribe* to the calendar `provider` detected at `uri` (when several providers found
        it, the dialog selects CalDAV: addPostDetectPreference("caldav", "ics")); returns its
        id. An observer records the calendar's onLoad and onError notifications from then on."""
        return self.run("""
            const [uri, type] = arguments;
            const calendar = state.detected.find(d => d.calendar.uri.spec == uri &&
                                                      d.provider == type)?.calendar;
            if (!calendar) throw new Error(`${type} did not detect ${uri}`);
            // prepareNetworkCalendar() with "Offline support" ticked (the dialog's default).
            if (!calendar.getProperty("cache.always")) {
              calendar.setProperty("cache.enabled",
                                   calendar.getProperty("cache.supported") !== false);
            }
            cal.manager.registerCalendar(calendar);
            const registered = calendarById(calendar.id);
            const record = { loads: 0, errors: [] };
            state.observers[calendar.id] = record;
            registered.addObserver({
              QueryInterface: ChromeUtils.generateQI(["calIObserver"]),
              onStartBatch() {}, onEndBatch() {}, onAddItem() {}, onModifyItem() {},
              onDeleteItem() {}, onPropertyChanged() {}, onPropertyDeleting() {},
              onLoad() { record.loads++; },
              onError(c, code, message) { record.errors.push(`${code}: ${message}`); },
            });
            return calendar.id;
        """, uri, provider)

    def calendar_info(self, cal_id: str) -> dict:
        return self.run("""
            const calendar = calendarById(arguments[0]);
            return { type: calendar.type, name: calendar.name, uri: calendar.uri.spec,
                     cached: calendar.getProperty("cache.enabled"),
                     username: calendar.getProperty("username"),
                     read_only: calendar.readOnly, disabled: !!calendar.getProperty("disabled"),
                     current_status: calendar.getProperty("currentStatus") };
        """, cal_id)

    def errors(self, cal_id: str) -> list[str]:
        """The calendar's onError notifications so far (authentication, HTTP, parse errors)."""
        return self.run("return state.observers[arguments[0]].errors;", cal_id)

    def saved_logins(self, origin: str) -> list[dict]:
        return self.run("""
            const logins = await Services.logins.searchLoginsAsync({ origin: arguments[0] });
            return logins.map(l => ({ username: l.username, realm: l.httpRealm }));
        """, origin)

    def sync(self, cal_id: str) -> None:
        """The *Synchronize* button: refresh, then wait for the calendar's next onLoad (fired
        when the cached copy has caught up with the server)."""
        self.run("""
            const calendar = calendarById(arguments[0]);
            const record = state.observers[arguments[0]];
            const deadline = Date.now() + 30000;
            const pause = async what => {
              if (Date.now() > deadline) throw new Error("timed out waiting for " + what);
              await new Promise(resolve => setTimeout(resolve, 50));
            };
            // NOTE: refresh() joins a sync already running (calCachedCalendar.mPendingSync),
            // which may have read the server before the change the caller waits for: let it
            // end first, so the sync awaited below starts now.
            while (calendar.wrappedJSObject.mPendingSync) await pause("the previous sync");
            const before = record.loads;
            await calendar.refresh();
            while (record.loads == before) await pause("onLoad");
        """, cal_id)

    def events(self, cal_id: str, start_utc: str, end_utc: str) -> list[dict]:
        """Event occurrences between two UTC times (`20270301T000000Z`), as the views ask."""
        return self.run("""
            const [id, from, to] = arguments;
            const calendar = calendarById(id);
            const filter = Ci.calICalendar.ITEM_FILTER_TYPE_EVENT |
                           Ci.calICalendar.ITEM_FILTER_CLASS_OCCURRENCES;
            const items = await calendar.getItemsAsArray(filter, 0, cal.createDateTime(from),
                                                         cal.createDateTime(to));
            return items.map(describe).sort((a, b) => a.start_utc.localeCompare(b.start_utc));
        """, cal_id, start_utc, end_utc)

    def add_event(self, cal_id: str, uid: str, title: str, start: str, end: str,
                  tzid: str) -> dict:
        """A new event (local times `20270510T140000` in `tzid`), as the event dialog saves it."""
        return self.run("""
            const [id, uid, title, start, end, tzid] = arguments;
            const calendar = calendarById(id);
            const tz = cal.timezoneService.getTimezone(tzid);
            const event = new CalEvent();
            event.id = uid;
            event.title = title;
            event.startDate = cal.createDateTime(start);
            event.startDate.timezone = tz;
            event.endDate = cal.createDateTime(end);
            event.endDate.timezone = tz;
            return describe(await calendar.addItem(event));
        """, cal_id, uid, title, start, end, tzid)

    def modify_event(self, cal_id: str, uid: str, *, title: str) -> dict:
        return self.run("""
            const [id, uid, title] = arguments;
            const calendar = calendarById(id);
            const old = await calendar.getItem(uid);
            if (!old) throw new Error("no item " + uid);
            const changed = old.clone();
            changed.title = title;
            return describe(await calendar.modifyItem(changed, old));
        """, cal_id, uid, title)

    def delete_event(self, cal_id: str, uid: str) -> None:
        self.run("""
            const [id, uid] = arguments;
            const calendar = calendarById(id);
            const item = await calendar.getItem(uid);
            if (!item) throw new Error("no item " + uid);
            await calendar.deleteItem(item);
        """, cal_id, uid)
