#!/usr/bin/python3
"""Booking figure of the Calendars issue: free-slot computation for one month of a busy owner.

The owner's calendar holds EVENTS events over two years (20 % recurring: weekly, daily with a
COUNT, twice-weekly, monthly; half in Europe/Paris, half in UTC), loaded by PUT. A booking type
offers 30-minute slots on weekdays 09:00-17:00 Paris time with buffers. Then one client asks
GET /_ruche/v1/book/<owner>/<slug>/slots for a one-month range (a different month each time)
for SECONDS seconds and the latency percentiles are printed. No peer runs the same computation
(Cal.com is not packaged); the goal is absolute: p99 < 10 ms.

Usage: bench/booking_slots.py [RUCHE_BIN]   (default build-release/ruche)
Env: EVENTS (10000), SECONDS (20). Everything listens on 127.0.0.1 and stops at the end.
"""
import base64
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lib"))
from ruche_test import RucheServer, login, run_admin  # noqa: E402

EVENTS = int(os.environ.get("EVENTS", "10000"))
SECONDS = float(os.environ.get("SECONDS", "20"))


def busy_calendar(n, seed=1):
    """The same calendar on every run: (name, iCalendar text) pairs."""
    rng = random.Random(seed)
    rules = ["RRULE:FREQ=WEEKLY\r\n", "RRULE:FREQ=DAILY;COUNT=30\r\n",
             "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=40\r\n", "RRULE:FREQ=MONTHLY\r\n"]
    for i in range(n):
        day = rng.randrange(0, 730)
        start = time.gmtime(time.mktime((2026, 12, 1, 0, 0, 0, 0, 0, 0)) + day * 86400)
        y, mo, d, h = start.tm_year, start.tm_mon, start.tm_mday, rng.randrange(7, 18)
        stamp = f"{y}{mo:02d}{d:02d}T{h:02d}"
        if i % 2:
            when = (f"DTSTART;TZID=Europe/Paris:{stamp}0000\r\n"
                    f"DTEND;TZID=Europe/Paris:{stamp}3000\r\n")
        else:
            when = f"DTSTART:{stamp}0000Z\r\nDTEND:{stamp}3000Z\r\n"
        rule = rng.choice(rules) if i % 5 == 0 else ""
        yield f"ev{i}.ics", (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Ruche bench//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:bench-{i}\r\nDTSTAMP:20261101T000000Z\r\n{when}{rule}"
            f"SUMMARY:Busy event {i}\r\nLOCATION:Room {i % 20}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main():
    binary = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build-release" / "ruche")
    os.environ["RUCHE_BIN"] = str(binary)
    with tempfile.TemporaryDirectory(prefix="ruche-bench-slots-") as tmp:
        web = Path(tmp) / "web"
        web.mkdir()
        (web / "index.html").write_text("<!doctype html><title>bench</title>")
        data = Path(tmp) / "data"
        run_admin("create-user", "owner", "--password", "bench password", data_dir=data)
        with RucheServer(web_root=web, data_dir=data) as server:
            token = login(server, "owner", "bench password").json["access_token"]
            auth = {"Authorization": "Basic " + base64.b64encode(b"owner:bench password").decode(),
                    "Content-Type": "text/calendar"}
            conn = http.client.HTTPConnection(server.host, server.port)
            t0 = time.perf_counter()
            for name, text in busy_calendar(EVENTS):
                conn.request("PUT", f"/dav/calendars/owner/personal/{name}", body=text.encode(),
                             headers=auth)
                r = conn.getresponse()
                r.read()
                assert r.status == 201, r.status
            ingest = EVENTS / (time.perf_counter() - t0)
            weekdays = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
            body = json.dumps({"slug": "meet", "title": "Meeting", "duration_min": 30,
                               "timezone": "Europe/Paris", "horizon_days": 730,
                               "buffer_before_min": 10, "buffer_after_min": 10,
                               "availability": {"weekly": weekdays}})
            conn.request("POST", "/_ruche/v1/booking_types", body=body,
                         headers={"Authorization": f"Bearer {token}",
                                  "Content-Type": "application/json"})
            r = conn.getresponse()
            assert r.status == 200, r.read()
            r.read()
            months = [(2027 + (m // 12), 1 + m % 12) for m in range(0, 18)]
            latencies, slots_seen, i = [], 0, 0
            end_at = time.perf_counter() + SECONDS
            while time.perf_counter() < end_at:
                y, m = months[i % len(months)]
                ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
                path = (f"/_ruche/v1/book/owner/meet/slots?from={y}-{m:02d}-01T00:00:00Z"
                        f"&to={ny}-{nm:02d}-01T00:00:00Z")
                t = time.perf_counter()
                conn.request("GET", path)
                r = conn.getresponse()
                payload = r.read()
                latencies.append(time.perf_counter() - t)
                assert r.status == 200, payload
                slots_seen += len(json.loads(payload)["slots"])
                i += 1
            print(f"booking_slots: {EVENTS} events ({EVENTS // 5} recurring), ingest "
                  f"{ingest:.0f} PUT/s; {len(latencies)} one-month slot queries, "
                  f"{slots_seen / len(latencies):.0f} free slots each; "
                  f"p50 {percentile(latencies, 0.5) * 1000:.2f} ms, "
                  f"p99 {percentile(latencies, 0.99) * 1000:.2f} ms, "
                  f"max {max(latencies) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
