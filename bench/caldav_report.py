#!/usr/bin/python3
"""CalDAV figure of the Calendars issue: REPORT calendar-query with a one-month time range over a
calendar of 10,000 events, Ruche side by side with Debian's Radicale in the same run.

Run:   bench/caldav_report.py [RUCHE_BIN]
       (default build-release/ruche if it exists, else build/ruche; Radicale is `python3 -m
       radicale` from Debian's python3-radicale). Everything listens on 127.0.0.1 only and both
       servers are stopped at the end, also on Ctrl-C or an error.
Env:   EVENTS (10000)   events in the calendar
       CLIENTS (8)      concurrent clients (threads, one keep-alive http.client connection each)
       SECONDS (20)     load duration per server
       RADICALE_PUT (500, or "all")   how many events Radicale gets by PUT, see below
Takes: about 6 minutes with the defaults on a 2-core VM: 10,000 PUTs to Ruche (~1 min),
       500 to Radicale (~1 min), Radicale's first queries (it parses the files it was not sent
       by PUT), then SECONDS per server (Radicale's last requests can run well past it: they
       are waited for, not cut).

The calendar (the same for both servers, fixed seed): EVENTS events from January 2026 to
December 2027; 20 % recurring — weekly without end (35 % of those), weekly with a COUNT (25 %),
daily with a COUNT (30 %), daily without end (10 %); half in Europe/Paris (VTIMEZONE included, as
RFC 5545 requires), half in UTC; 30 to 90 minutes each.

Loading: Ruche gets every event by PUT on one keep-alive connection; the PUT rate is printed.
Radicale gets the first RADICALE_PUT events by PUT and its rate is printed. Radicale looks for a
UID conflict among all stored items on each PUT (storage has_uid walks get_all()), so its rate
falls as the calendar grows: about 11/s empty, 6/s at 1,500 items on a 2-core VM, which would
make 10,000 PUTs take over an hour. The rest are written into its storage folder in its own
layout (one .ics per object), which Radicale reads like any other item. RADICALE_PUT=all PUTs
everything.

Load: CLIENTS threads send REPORT calendar-query (DAV:getetag + CALDAV:calendar-data, VEVENT,
one calendar month, each request a different month of the two years) to one server for SECONDS
seconds, then to the other (never both at once). Printed per server: requests/s, p50 and p99
latency, bytes and objects per answer (averaged over the months each server got through, so
they differ when one server gets through fewer months), errors, and the server's CPU time per
request (from /proc/<pid>/stat). Then the ratio Ruche/Radicale. Before the load, both servers
answer the same three months (March and October 2026, the DST changes, and June 2027) and the
objects they return are compared by UID: the figures only mean something if both give the same
answers.

The client is Python (one GIL): when Ruche answers faster than the client can read, the client is
the limit and the printed ratio is a lower bound; the CPU-per-request figure does not have that
limit.
"""
from __future__ import annotations

import base64
import calendar
import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lib"))
from ruche_test import RucheServer, run_admin  # noqa: E402

EVENTS = int(os.environ.get("EVENTS", "10000"))
CLIENTS = int(os.environ.get("CLIENTS", "8"))
SECONDS = float(os.environ.get("SECONDS", "20"))
RADICALE_PUT = os.environ.get("RADICALE_PUT", "500")
USER, PASSWORD = "bench", "bench password"
AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
MONTHS = [(2026 + m // 12, 1 + m % 12) for m in range(24)]
CHECK_MONTHS = [(2026, 3), (2026, 10), (2027, 6)]
CLK_TCK = os.sysconf("SC_CLK_TCK")

PARIS_VTIMEZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n")


# -- the calendar -------------------------------------------------------------------------------


def calendar_objects(n: int, seed: int = 8) -> list[tuple[str, str]]:
    """(object name, iCalendar text) for n events; the same list on every run."""
    rng = random.Random(seed)
    base = calendar.timegm((2026, 1, 1, 0, 0, 0))
    out = []
    for i in range(n):
        t = time.gmtime(base + rng.randrange(0, 730) * 86400)
        hour, minute = rng.randrange(7, 19), rng.choice((0, 15, 30, 45))
        length = rng.choice((30, 45, 60, 90))
        end_h, end_m = divmod(hour * 60 + minute + length, 60)
        day = f"{t.tm_year}{t.tm_mon:02d}{t.tm_mday:02d}"
        paris = i % 2 == 1
        if paris:
            when = (f"DTSTART;TZID=Europe/Paris:{day}T{hour:02d}{minute:02d}00\r\n"
                    f"DTEND;TZID=Europe/Paris:{day}T{end_h:02d}{end_m:02d}00\r\n")
        else:
            when = (f"DTSTART:{day}T{hour:02d}{minute:02d}00Z\r\n"
                    f"DTEND:{day}T{end_h:02d}{end_m:02d}00Z\r\n")
        rule = ""
        if i % 5 == 0:  # 20 % recurring
            kind = rng.random()
            if kind < 0.35:
                rule = "RRULE:FREQ=WEEKLY\r\n"
            elif kind < 0.60:
                rule = f"RRULE:FREQ=WEEKLY;COUNT={rng.randrange(4, 53)}\r\n"
            elif kind < 0.90:
                rule = f"RRULE:FREQ=DAILY;COUNT={rng.randrange(3, 31)}\r\n"
            else:
                rule = "RRULE:FREQ=DAILY\r\n"
        text = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Ruche bench//EN\r\n"
                + (PARIS_VTIMEZONE if paris else "") + "BEGIN:VEVENT\r\n"
                f"UID:bench-{i}@ruche.test\r\nDTSTAMP:20251201T000000Z\r\n{when}{rule}"
                f"SUMMARY:Event {i}\r\nLOCATION:Room {i % 40}\r\n"
                f"DESCRIPTION:Agenda item {i} for the weekly review\r\n"
                "END:VEVENT\r\nEND:VCALENDAR\r\n")
        out.append((f"ev{i}.ics", text))
    return out


def month_query(y: int, m: int) -> bytes:
    ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
    return ('<?xml version="1.0" encoding="utf-8"?><c:calendar-query xmlns:d="DAV:" '
            'xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/>'
            '</d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
            f'<c:time-range start="{y}{m:02d}01T000000Z" end="{ny}{nm:02d}01T000000Z"/>'
            '</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>').encode()


REPORT_HEADERS = {"Authorization": AUTH, "Depth": "1",
                  "Content-Type": "application/xml; charset=utf-8"}
CALENDAR_DATA_END = re.compile(rb"</(?:[A-Za-z0-9]+:)?calendar-data>")
UID = re.compile(rb"UID:([^\r\n&]+)")


# -- measuring ----------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def put_all(host, port, path, items) -> float:
    """PUTs items one by one on one connection; events per second."""
    conn = http.client.HTTPConnection(host, port, timeout=600)
    t0 = time.perf_counter()
    for name, text in items:
        conn.request("PUT", path + name, body=text.encode(),
                     headers={"Authorization": AUTH, "Content-Type": "text/calendar"})
        r = conn.getresponse()
        r.read()
        if r.status not in (201, 204):
            raise RuntimeError(f"PUT {path}{name}: {r.status} {r.reason}")
    conn.close()
    return len(items) / (time.perf_counter() - t0)


def uids_in_month(host, port, path, y, m) -> set[bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=600)
    conn.request("REPORT", path, body=month_query(y, m), headers=REPORT_HEADERS)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    if r.status != 207:
        raise RuntimeError(f"REPORT {path}: {r.status}")
    return set(UID.findall(body))


def load(host, port, path, pid) -> dict:
    latencies, sizes, objects, errors = [], [], [], []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS + 1)
    deadline = [0.0]

    def client(k):
        conn = http.client.HTTPConnection(host, port, timeout=120)
        mine_lat, mine_size, mine_obj, mine_err = [], [], [], []
        i = k
        start.wait()
        while time.perf_counter() < deadline[0]:
            y, m = MONTHS[i % len(MONTHS)]
            i += CLIENTS
            t = time.perf_counter()
            try:
                conn.request("REPORT", path, body=month_query(y, m), headers=REPORT_HEADERS)
                r = conn.getresponse()
                body = r.read()
            except (OSError, http.client.HTTPException) as e:
                mine_err.append(type(e).__name__)
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=120)
                continue
            mine_lat.append(time.perf_counter() - t)
            if r.status != 207:
                mine_err.append(r.status)
                continue
            mine_size.append(len(body))
            mine_obj.append(len(CALENDAR_DATA_END.findall(body)))
        conn.close()
        with lock:
            latencies.extend(mine_lat)
            sizes.extend(mine_size)
            objects.extend(mine_obj)
            errors.extend(mine_err)

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    cpu0 = cpu_seconds(pid)
    t0 = time.perf_counter()
    deadline[0] = t0 + SECONDS
    start.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    cpu = cpu_seconds(pid) - cpu0
    done = len(sizes)
    return {"rate": done / elapsed, "lat": sorted(latencies), "bytes": sizes,
            "objects": objects, "errors": errors, "cpu_per_req": cpu / max(1, done),
            "requests": done}


def pct(sorted_values, p):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


def show(name, res):
    mean = lambda v: sum(v) / len(v) if v else float("nan")  # noqa: E731
    print(f"| {name} | {res['rate']:.1f} | {pct(res['lat'], .5) * 1e3:.1f} | "
          f"{pct(res['lat'], .99) * 1e3:.1f} | {mean(res['bytes']) / 1024:.0f} KiB | "
          f"{mean(res['objects']):.0f} | {res['cpu_per_req'] * 1e3:.1f} ms | "
          f"{res['requests']} | {len(res['errors'])} |")


# -- servers ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"radicale exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("radicale did not listen")


class Radicale:
    def __init__(self, tmp: Path):
        self.port = free_port()
        self.storage = tmp / "radicale"
        self.config = tmp / "radicale.conf"
        self.config.write_text(
            f"[server]\nhosts = 127.0.0.1:{self.port}\nmax_connections = {CLIENTS * 2}\n"
            "[auth]\ntype = none\n[rights]\ntype = owner_only\n"
            f"[storage]\nfilesystem_folder = {self.storage}\n[logging]\nlevel = warning\n")
        self.proc = subprocess.Popen([sys.executable, "-m", "radicale", "--config",
                                      str(self.config)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        wait_listening(self.port, self.proc)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def ruche_binary() -> Path:
    if len(sys.argv) > 1:
        return Path(sys.argv[1]).resolve()
    release = ROOT / "build-release" / "ruche"
    return release if release.exists() else ROOT / "build" / "ruche"


def main():
    binary = ruche_binary()
    os.environ["RUCHE_BIN"] = str(binary)
    items = calendar_objects(EVENTS)
    n_put = len(items) if RADICALE_PUT == "all" else min(len(items), int(RADICALE_PUT))
    recurring = sum("RRULE" in text.split("BEGIN:VEVENT")[1] for _, text in items)
    print(f"caldav_report: {EVENTS} events ({recurring} recurring), "
          f"{CLIENTS} clients, {SECONDS:.0f} s per server; ruche: {binary}; "
          f"{os.cpu_count()} CPUs", flush=True)
    results, ingest = {}, {}
    with tempfile.TemporaryDirectory(prefix="ruche-bench-caldav-") as tmp:
        tmp = Path(tmp)
        web = tmp / "web"
        web.mkdir()
        (web / "index.html").write_text("<!doctype html><title>bench</title>")
        data = tmp / "data"
        made = run_admin("create-user", USER, "--password", PASSWORD, data_dir=data)
        if made.returncode != 0:
            raise RuntimeError(f"ruche admin create-user: {made.stdout}{made.stderr}")
        radicale = Radicale(tmp)
        try:
            with RucheServer(web_root=web, data_dir=data) as ruche:
                r_path = f"/dav/calendars/{USER}/personal/"
                q_path = f"/{USER}/calendar/"
                # -- loading --
                ingest["ruche"] = put_all(ruche.host, ruche.port, r_path, items)
                print(f"  ruche: {len(items)} PUT at {ingest['ruche']:.0f} events/s", flush=True)
                conn = http.client.HTTPConnection("127.0.0.1", radicale.port, timeout=60)
                conn.request("MKCALENDAR", q_path, headers={"Authorization": AUTH})
                r = conn.getresponse()
                r.read()
                if r.status != 201:
                    raise RuntimeError(f"radicale MKCALENDAR: {r.status}")
                ingest["radicale"] = put_all("127.0.0.1", radicale.port, q_path, items[:n_put])
                folder = radicale.storage / "collection-root" / USER / "calendar"
                for name, text in items[n_put:]:
                    (folder / name).write_bytes(text.encode())
                print(f"  radicale: {n_put} PUT at {ingest['radicale']:.1f} events/s (from an "
                      f"empty calendar), {len(items) - n_put} written to its folder", flush=True)
                # -- same answers? (also warms both: Radicale builds its item cache here) --
                agree = []
                for y, m in CHECK_MONTHS:
                    a = uids_in_month(ruche.host, ruche.port, r_path, y, m)
                    b = uids_in_month("127.0.0.1", radicale.port, q_path, y, m)
                    if a == b:
                        agree.append(f"{y}-{m:02d}: both {len(a)} objects, same UIDs")
                    else:
                        agree.append(f"{y}-{m:02d}: DIFFER ruche {len(a)} radicale {len(b)}; "
                                     f"only ruche {sorted(a - b)[:3]}, "
                                     f"only radicale {sorted(b - a)[:3]}")
                for line in agree:
                    print("  " + line, flush=True)
                # -- load, one server at a time --
                results["ruche"] = load(ruche.host, ruche.port, r_path, ruche.proc.pid)
                results["radicale"] = load("127.0.0.1", radicale.port, q_path,
                                           radicale.proc.pid)
        finally:
            radicale.stop()
    print()
    print("| server | req/s | p50 ms | p99 ms | bytes/answer | objects/answer | "
          "server CPU/req | requests | errors |")
    print("|---|---|---|---|---|---|---|---|---|")
    show("Ruche", results["ruche"])
    show("Radicale 3.1.8", results["radicale"])
    ratio = results["ruche"]["rate"] / max(results["radicale"]["rate"], 1e-9)
    cpu_ratio = results["radicale"]["cpu_per_req"] / max(results["ruche"]["cpu_per_req"], 1e-9)
    print(f"\nratio Ruche/Radicale: {ratio:.1f}x requests/s, {cpu_ratio:.1f}x less server CPU "
          f"per request; ingest {ingest['ruche']:.0f} vs {ingest['radicale']:.1f} PUT/s")


if __name__ == "__main__":
    main()
