"""WebDAV conformance of the calendar home with Debian's litmus (`basic` and `props` groups).

litmus writes plain files and plain collections, which a CalDAV server may not store: a calendar
holds only iCalendar objects and no collection (RFC 4791 §4.2, §5.3.2: supported-calendar-data,
calendar-collection-location-ok). It is run on the calendar home, where its MKCOL makes a
calendar; every test must pass except those listed below with the reason, and the tests that
depend on them (litmus marks those SKIPPED)."""
import os
import re
import subprocess

from ruche_test import new_user

PASSWORD = "correct horse"

# Tests that need a non-iCalendar file or a collection inside a calendar.
NOT_APPLICABLE = {
    "basic": {
        "put_get": "PUTs a plain-text file into a calendar",
        "put_get_utf8_segment": "PUTs a plain-text file into a calendar",
        "delete_fragment": "makes a collection inside a calendar",
        "mkcol": "makes a collection inside a calendar",
    },
    "props": {
        "propinit": "PUTs a plain-text file to carry the properties",
        "propmanyns": "PROPPATCHes the file propinit could not create",
    },
}
# Tests that must pass (they exercise what a CalDAV collection does support).
MUST_PASS = {
    "basic": {"init", "begin", "options", "put_no_parent", "delete_null", "mkcol_no_parent",
              "mkcol_with_body", "finish"},
    "props": {"init", "begin", "propfind_invalid", "propfind_invalid2", "propfind_d0",
              "propextended", "propwformed", "propcleanup", "finish"},
}

LINE = re.compile(r"^\s*\d+\.\s+(\w+)\.+\s+(pass|FAIL|SKIPPED|WARNING)", re.M)


def run_litmus(url, user, group, tmp_path):
    env = dict(os.environ, TESTS=group)
    r = subprocess.run(["litmus", url, user, PASSWORD], capture_output=True, text=True,
                       errors="replace",
                       timeout=300, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL)
    results = {}
    for name, outcome in LINE.findall(r.stdout):
        # "WARNING" lines are followed by the outcome on the next line: count them as passed
        # when no FAIL follows for the same test.
        if outcome == "WARNING":
            outcome = "pass"
        results[name] = outcome if results.get(name) != "FAIL" else "FAIL"
    assert results, r.stdout + r.stderr
    return results, r.stdout


def test_litmus_basic_and_props(server, tmp_path):
    user, _ = new_user(server)
    url = f"http://{server.host}:{server.port}/dav/calendars/{user}/"
    for group in ("basic", "props"):
        results, output = run_litmus(url, user, group, tmp_path)
        for name in MUST_PASS[group]:
            assert results.get(name) == "pass", f"{group}/{name}: {results.get(name)}\n{output}"
        failed = {n for n, o in results.items() if o == "FAIL"}
        unexpected = failed - set(NOT_APPLICABLE[group])
        assert not unexpected, f"{group}: unexpected failures {unexpected}\n{output}"
