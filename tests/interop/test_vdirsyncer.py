"""Two-way sync between a Ruche calendar and a local folder with Debian's vdirsyncer: creations,
changes and deletions made on either side reach the other."""
import base64
import re
import subprocess
from pathlib import Path

import pytest

from ruche_test import call, new_user

PASSWORD = "correct horse"


def ics(uid, summary, day="04"):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Ruche tests//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:{uid}\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:202701{day}T100000Z\r\n"
            f"DTEND:202701{day}T110000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


@pytest.fixture
def sync_setup(server, tmp_path):
    user, _ = new_user(server)
    local = tmp_path / "local"
    local.mkdir()
    (tmp_path / "status").mkdir()
    config = tmp_path / "config"
    config.write_text(f"""[general]
status_path = "{tmp_path / 'status'}/"

[pair cal]
a = "ruche"
b = "local"
collections = null
conflict_resolution = "a wins"

[storage ruche]
type = "caldav"
url = "http://{server.host}:{server.port}/dav/calendars/{user}/personal/"
username = "{user}"
password = "{PASSWORD}"

[storage local]
type = "filesystem"
path = "{local}/"
fileext = ".ics"
""")

    def vdirsyncer(*args):
        r = subprocess.run(["vdirsyncer", "-c", str(config), *args], capture_output=True,
                           text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout + r.stderr

    vdirsyncer("discover")
    return user, local, vdirsyncer


def server_objects(server, user):
    auth = {"Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()}
    out = {}
    r = call(server, "PROPFIND", f"/dav/calendars/{user}/personal/",
             headers=dict(auth, Depth="1"))
    assert r.status == 207
    for href in re.findall(r"<d:href>([^<]+\.ics)</d:href>", r.body.decode()):
        got = call(server, "GET", href, headers=auth)
        assert got.status == 200
        out[href.rsplit("/", 1)[1]] = got.body.decode()
    return out, auth


def local_summaries(local: Path):
    out = {}
    for f in local.glob("*.ics"):
        for line in f.read_text().splitlines():
            if line.startswith("SUMMARY:"):
                out[f.name] = line[len("SUMMARY:"):].strip()
    return out


def test_two_way_sync(server, sync_setup):
    user, local, vdirsyncer = sync_setup
    _, auth = server_objects(server, user)
    base = f"/dav/calendars/{user}/personal/"
    headers = dict(auth, **{"Content-Type": "text/calendar"})
    assert call(server, "PUT", base + "from-server.ics", raw_body=ics("s1", "From server").encode(),
                headers=headers).status == 201

    vdirsyncer("sync")
    assert list(local_summaries(local).values()) == ["From server"]

    (local / "from-folder.ics").write_text(ics("f1", "From folder", "05"))
    server_file = next(local.glob("*.ics"))
    server_file.write_text(server_file.read_text().replace("From server", "Edited in folder"))
    vdirsyncer("sync")
    objects, _ = server_objects(server, user)
    summaries = sorted(line.split(":", 1)[1].strip() for text in objects.values()
                       for line in text.splitlines() if line.startswith("SUMMARY:"))
    assert summaries == ["Edited in folder", "From folder"]

    # A change and a deletion on the server side reach the folder.
    folder_href = [name for name, text in objects.items() if "UID:f1" in text][0]
    assert call(server, "PUT", base + folder_href, raw_body=ics("f1", "Edited on server",
                                                               "05").encode(),
                headers=headers).status == 204
    assert call(server, "DELETE", base + "from-server.ics", headers=auth).status == 204
    vdirsyncer("sync")
    assert list(local_summaries(local).values()) == ["Edited on server"]

    # A deletion in the folder reaches the server (emptying a side entirely needs vdirsyncer's
    # explicit --force-delete: its guard against a wiped folder).
    for f in local.glob("*.ics"):
        f.unlink()
    vdirsyncer("sync", "--force-delete", "cal")
    objects, _ = server_objects(server, user)
    assert objects == {}
