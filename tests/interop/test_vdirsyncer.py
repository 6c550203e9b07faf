"""Two-way sync between Ruche calendars and local folders with Debian's vdirsyncer (0.19):
creations, changes and deletions made on either side reach the other, a sync with nothing to do
changes nothing, and vdirsyncer finds the user's calendars from the server's root URL.

Each test writes its own config, status folder and local folder in a temporary directory.
"""
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ruche_test import basic_auth, call, new_user

PASSWORD = "correct horse"

PARIS_VTIMEZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n")


def ics(uid, summary, day="04", extra="", tz=False):
    when = (f"DTSTART;TZID=Europe/Paris:202701{day}T090000\r\n"
            f"DTEND;TZID=Europe/Paris:202701{day}T100000\r\n" if tz else
            f"DTSTART:202701{day}T100000Z\r\nDTEND:202701{day}T110000Z\r\n")
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Ruche tests//EN\r\n"
            + (PARIS_VTIMEZONE if tz else "") + "BEGIN:VEVENT\r\n"
            f"UID:{uid}\r\nDTSTAMP:20270101T000000Z\r\n{when}{extra}SUMMARY:{summary}\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n")


def write_config(tmp_path: Path, server, user, *, url, collections):
    local = tmp_path / "local"
    local.mkdir()
    (tmp_path / "status").mkdir()
    config = tmp_path / "config"
    config.write_text(f"""[general]
status_path = "{tmp_path / 'status'}/"

[pair cal]
a = "ruche"
b = "local"
collections = {collections}
conflict_resolution = "a wins"

[storage ruche]
type = "caldav"
url = "{url}"
username = "{user}"
password = "{PASSWORD}"

[storage local]
type = "filesystem"
path = "{local}/"
fileext = ".ics"
""")

    def vdirsyncer(*args):
        # discover asks before creating a local folder for each calendar: yes to each.
        r = subprocess.run(["vdirsyncer", "-c", str(config), *args], capture_output=True,
                           text=True, timeout=120, input="y\n" * 20)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout + r.stderr

    return local, vdirsyncer


def dav(server, user, method, path, body=None, **headers):
    h = dict(basic_auth(user, PASSWORD), **{k.replace("_", "-"): v for k, v in headers.items()})
    return call(server, method, path, raw_body=body.encode() if isinstance(body, str) else body,
                headers=h)


def server_objects(server, user, cal):
    """{object name: (ETag, text)} of a calendar, read over plain HTTP (PROPFIND + GET)."""
    r = dav(server, user, "PROPFIND", cal, Depth="1")
    assert r.status == 207, r
    out = {}
    for href in ET.fromstring(r.body).iterfind("{DAV:}response/{DAV:}href"):
        path = unquote(urlsplit(href.text.strip()).path)
        if path == cal:
            continue
        got = dav(server, user, "GET", path)
        assert got.status == 200, (path, got)
        out[path[len(cal):]] = (got.header("ETag"), got.body.decode())
    return out


def summaries(texts):
    return sorted(line.split(":", 1)[1].strip() for text in texts
                  for line in text.splitlines() if line.startswith("SUMMARY"))


def local_files(folder: Path):
    return {f.name: f.read_text() for f in folder.glob("*.ics")}


def put(server, user, path, text, expect):
    r = dav(server, user, "PUT", path, text, Content_Type="text/calendar")
    assert r.status in expect, r


def test_two_way_sync_of_a_calendar_with_a_folder(server, tmp_path):
    user, _ = new_user(server, PASSWORD)
    cal = f"/dav/calendars/{user}/personal/"
    local, vdirsyncer = write_config(tmp_path, server, user, collections="null",
                                     url=f"http://{server.host}:{server.port}{cal}")
    vdirsyncer("discover")

    # Server -> folder, a weekly event in Paris time included, unchanged in substance.
    put(server, user, cal + "from-server.ics", ics("s1", "From server"), (201,))
    put(server, user, cal + "weekly.ics", ics("w1", "Weekly", "11", "RRULE:FREQ=WEEKLY\r\n",
                                              tz=True), (201,))
    vdirsyncer("sync")
    files = local_files(local)
    assert summaries(files.values()) == ["From server", "Weekly"]
    weekly = [t for t in files.values() if "UID:w1" in t][0]
    assert "RRULE:FREQ=WEEKLY" in weekly and "DTSTART;TZID=Europe/Paris:20270111T090000" in \
        weekly and "BEGIN:VTIMEZONE" in weekly

    # A sync with nothing to do changes nothing on either side.
    before = server_objects(server, user, cal)
    mtimes = {f.name: f.stat().st_mtime_ns for f in local.glob("*.ics")}
    vdirsyncer("sync")
    assert server_objects(server, user, cal) == before
    assert {f.name: f.stat().st_mtime_ns for f in local.glob("*.ics")} == mtimes

    # Folder -> server: a new event and a change to the server's event.
    (local / "from-folder.ics").write_text(ics("f1", "From folder", "05"))
    server_file = [f for f in local.glob("*.ics") if "UID:s1" in f.read_text()][0]
    server_file.write_text(server_file.read_text().replace("From server", "Edited in folder"))
    vdirsyncer("sync")
    objects = server_objects(server, user, cal)
    assert summaries(t for _, t in objects.values()) == ["Edited in folder", "From folder",
                                                         "Weekly"]
    assert "Edited in folder" in objects["from-server.ics"][1]  # changed in place
    folder_name = [n for n, (_, t) in objects.items() if "UID:f1" in t][0]

    # Server -> folder: a change and a deletion.
    put(server, user, cal + folder_name, ics("f1", "Edited on server", "05"), (200, 204))
    assert dav(server, user, "DELETE", cal + "from-server.ics").status in (200, 204)
    vdirsyncer("sync")
    assert summaries(local_files(local).values()) == ["Edited on server", "Weekly"]

    # Folder -> server: a deletion.
    [f.unlink() for f in local.glob("*.ics") if "UID:f1" in f.read_text()]
    vdirsyncer("sync")
    assert [t for _, t in server_objects(server, user, cal).values() if "UID:f1" in t] == []
    assert dav(server, user, "GET", cal + folder_name).status == 404

    # Emptying a side entirely needs vdirsyncer's --force-delete (its guard against a wiped
    # folder); then the server is emptied too.
    for f in local.glob("*.ics"):
        f.unlink()
    vdirsyncer("sync", "--force-delete", "cal")
    assert server_objects(server, user, cal) == {}


def test_calendars_found_from_the_server_root(server, tmp_path):
    user, _ = new_user(server, PASSWORD)
    home = f"/dav/calendars/{user}/"
    assert dav(server, user, "MKCALENDAR", home + "travail/").status == 201
    put(server, user, home + "personal/p.ics", ics("p1", "Personal event"), (201,))
    put(server, user, home + "travail/t.ics", ics("t1", "Work event"), (201,))
    local, vdirsyncer = write_config(tmp_path, server, user, collections='["from a"]',
                                     url=f"http://{server.host}:{server.port}/")
    vdirsyncer("discover")
    vdirsyncer("sync")
    folders = sorted(p.name for p in local.iterdir() if p.is_dir())
    assert folders == ["personal", "travail"], folders
    assert summaries(local_files(local / "personal").values()) == ["Personal event"]
    assert summaries(local_files(local / "travail").values()) == ["Work event"]

    (local / "travail" / "new.ics").write_text(ics("t2", "New work event", "06"))
    vdirsyncer("sync")
    assert summaries(t for _, t in server_objects(server, user, home + "travail/").values()) \
        == ["New work event", "Work event"]
    assert summaries(t for _, t in server_objects(server, user, home + "personal/").values()) \
        == ["Personal event"]


def test_a_conflict_is_resolved_as_configured(server, tmp_path):
    user, _ = new_user(server, PASSWORD)
    cal = f"/dav/calendars/{user}/personal/"
    local, vdirsyncer = write_config(tmp_path, server, user, collections="null",
                                     url=f"http://{server.host}:{server.port}{cal}")
    vdirsyncer("discover")
    put(server, user, cal + "c.ics", ics("c1", "Original"), (201,))
    vdirsyncer("sync")
    [f] = local.glob("*.ics")
    f.write_text(f.read_text().replace("Original", "Folder edit"))
    put(server, user, cal + "c.ics", ics("c1", "Server edit"), (200, 204))
    vdirsyncer("sync")  # "a wins": the server's version
    assert summaries(local_files(local).values()) == ["Server edit"]
    assert summaries(t for _, t in server_objects(server, user, cal).values()) == ["Server edit"]
