#!/usr/bin/python3
"""CalDAV figure of the Calendars issue, side by side with Debian's Radicale in the same run.

Both servers hold the same calendar of EVENTS events over two years, 20 % recurring (weekly
without end, daily with a COUNT, twice-weekly with a COUNT, monthly without end; half in
Europe/Paris, half in UTC): bench/booking_slots.py's generator. Ruche gets them by PUT (its
ingest rate is printed); Radicale gets INGEST_SAMPLE of them by PUT (its rate as the calendar
grows is printed) and the rest written into its storage folder (Radicale's file layout is one
.ics per object), which would otherwise take tens of minutes.

Then CLIENTS threads send REPORT calendar-query (getetag + calendar-data, one calendar month,
a different month each time) for SECONDS to each server in turn, after WARMUP requests; printed:
requests/s, p50, p99, objects per answer, and the ratio. 127.0.0.1 only; both stop at the end.

Usage: bench/caldav_report.py [RUCHE_BIN]   (default build-release/ruche)
Env: EVENTS (10000), CLIENTS (4), SECONDS (20), WARMUP (3), INGEST_SAMPLE (300).
"""
import base64
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lib"))
sys.path.insert(0, str(ROOT / "bench"))
from booking_slots import busy_calendar, percentile  # noqa: E402
from ruche_test import RucheServer, run_admin  # noqa: E402

EVENTS = int(os.environ.get("EVENTS", "10000"))
CLIENTS = int(os.environ.get("CLIENTS", "4"))
SECONDS = float(os.environ.get("SECONDS", "20"))
WARMUP = int(os.environ.get("WARMUP", "3"))
INGEST_SAMPLE = int(os.environ.get("INGEST_SAMPLE", "300"))
USER, PASSWORD = "bench", "bench password"
AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
MONTHS = [(2027 + m // 12, 1 + m % 12) for m in range(0, 18)]


def query(y, m):
    ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
    return ('<?xml version="1.0" encoding="utf-8"?><c:calendar-query xmlns:d="DAV:" '
            'xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/>'
            '</d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
            f'<c:time-range start="{y}{m:02d}01T000000Z" end="{ny}{nm:02d}01T000000Z"/>'
            '</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>').encode()


def put_all(host, port, path, items):
    conn = http.client.HTTPConnection(host, port, timeout=600)
    t0 = time.perf_counter()
    for name, text in items:
        conn.request("PUT", path + name, body=text.encode(),
                     headers={"Authorization": AUTH, "Content-Type": "text/calendar"})
        r = conn.getresponse()
        r.read()
        assert r.status in (201, 204), (r.status, name)
    return len(items) / (time.perf_counter() - t0)


def load(host, port, path, seconds):
    latencies, objects, errors = [], [], []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client(k):
        conn = http.client.HTTPConnection(host, port, timeout=600)
        i = k
        mine, counts = [], []
        while time.perf_counter() < stop_at:
            y, m = MONTHS[i % len(MONTHS)]
            i += CLIENTS
            t = time.perf_counter()
            conn.request("REPORT", path, body=query(y, m),
                         headers={"Authorization": AUTH, "Depth": "1",
                                  "Content-Type": "application/xml; charset=utf-8"})
            r = conn.getresponse()
            body = r.read()
            mine.append(time.perf_counter() - t)
            if r.status != 207:
                errors.append(r.status)
                continue
            counts.append(body.count(b"calendar-data>") // 2)
        with lock:
            latencies.extend(mine)
            objects.extend(counts)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return len(latencies) / elapsed, latencies, objects, errors


def names_in(host, port, path, y, m):
    """The object names a one-month query returns (to check both servers agree)."""
    import re
    conn = http.client.HTTPConnection(host, port, timeout=600)
    conn.request("REPORT", path, body=query(y, m),
                 headers={"Authorization": AUTH, "Depth": "1",
                          "Content-Type": "application/xml; charset=utf-8"})
    body = conn.getresponse().read().decode()
    return set(re.findall(r"/(ev\d+\.ics)<", body))


def warm(host, port, path):
    conn = http.client.HTTPConnection(host, port, timeout=600)
    for y, m in MONTHS[:WARMUP]:
        conn.request("REPORT", path, body=query(y, m),
                     headers={"Authorization": AUTH, "Depth": "1",
                              "Content-Type": "application/xml; charset=utf-8"})
        r = conn.getresponse()
        r.read()
        assert r.status == 207, r.status


def report(name, result):
    rate, lat, objects, errors = result
    print(f"  {name:8s} {rate:8.1f} req/s  p50 {percentile(lat, 0.5) * 1000:7.1f} ms  "
          f"p99 {percentile(lat, 0.99) * 1000:7.1f} ms  {sum(objects) / max(1, len(objects)):.0f} "
          f"objects/answer  errors {len(errors)}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    binary = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build-release" / "ruche")
    os.environ["RUCHE_BIN"] = str(binary)
    items = list(busy_calendar(EVENTS))
    results = {}
    with tempfile.TemporaryDirectory(prefix="ruche-bench-caldav-") as tmp:
        tmp = Path(tmp)
        # --- Radicale ---
        port = free_port()
        storage = tmp / "radicale"
        config = tmp / "radicale.conf"
        config.write_text(f"[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = none\n"
                          f"[storage]\nfilesystem_folder = {storage}\n[logging]\nlevel = warning\n"
                          "[rights]\ntype = owner_only\n")
        radicale = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(config)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            cal_path = f"/{USER}/calendar/"
            conn = http.client.HTTPConnection("127.0.0.1", port)
            conn.request("MKCALENDAR", cal_path, headers={"Authorization": AUTH})
            r = conn.getresponse()
            r.read()
            assert r.status == 201, r.status
            radicale_ingest = put_all("127.0.0.1", port, cal_path, items[:INGEST_SAMPLE])
            folder = storage / "collection-root" / USER / "calendar"
            for name, text in items[INGEST_SAMPLE:]:
                (folder / name).write_text(text)
            warm("127.0.0.1", port, cal_path)
            radicale_names = [names_in("127.0.0.1", port, cal_path, *mo) for mo in MONTHS[:3]]
            results["radicale"] = load("127.0.0.1", port, cal_path, SECONDS)
        finally:
            radicale.terminate()
            radicale.wait(10)
        # --- Ruche ---
        web = tmp / "web"
        web.mkdir()
        (web / "index.html").write_text("<!doctype html><title>bench</title>")
        data = tmp / "data"
        run_admin("create-user", USER, "--password", PASSWORD, data_dir=data)
        with RucheServer(web_root=web, data_dir=data) as server:
            path = f"/dav/calendars/{USER}/personal/"
            ruche_ingest = put_all(server.host, server.port, path, items)
            warm(server.host, server.port, path)
            ruche_names = [names_in(server.host, server.port, path, *mo) for mo in MONTHS[:3]]
            results["ruche"] = load(server.host, server.port, path, SECONDS)
    print(f"caldav_report: {EVENTS} events ({EVENTS // 5} recurring), {CLIENTS} clients, "
          f"{SECONDS:.0f} s each, one-month calendar-query with calendar-data")
    print(f"  ingest: ruche {ruche_ingest:.0f} PUT/s (all {EVENTS}); radicale "
          f"{radicale_ingest:.1f} PUT/s (first {INGEST_SAMPLE})")
    for mo, a, b in zip(MONTHS, ruche_names, radicale_names):
        same = "same objects" if a == b else (f"DIFFER: only ruche {sorted(a - b)[:5]}, "
                                              f"only radicale {sorted(b - a)[:5]}")
        print(f"  {mo[0]}-{mo[1]:02d}: ruche {len(a)}, radicale {len(b)} objects: {same}")
    report("ruche", results["ruche"])
    report("radicale", results["radicale"])
    print(f"  ratio ruche/radicale: {results['ruche'][0] / results['radicale'][0]:.1f}x "
          "requests/s")


if __name__ == "__main__":
    main()
