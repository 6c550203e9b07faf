"""WebDAV conformance with Debian's litmus 0.13: the `basic` and `props` groups.

Where litmus runs: litmus starts every group with `MKCOL <url>/litmus/` and works inside that
collection. Pointed at a calendar collection (…/personal/), that MKCOL makes a collection inside
a calendar, which CalDAV rules out (RFC 4791 §4.2, §5.3.1.2 calendar-collection-location-ok),
so nothing would run: the last test below checks exactly that. Pointed at the calendar home,
litmus's MKCOL makes a calendar collection (Ruche's homes hold only calendars, so a plain MKCOL
there makes one), and litmus's tests then run *inside a calendar collection*, as the issue asks.

Inside a calendar, only iCalendar objects may be stored (RFC 4791 §4.1, §5.3.2.1
supported-calendar-data / valid-calendar-data) and no collection may be made. litmus PUTs plain
text ("This is\\na test file.\\nfor litmus\\ntesting.\\n") and makes sub-collections, so the tests
in NOT_APPLICABLE fail by design; the tests in DEPENDENT are the ones litmus then SKIPs because
they reuse what those could not create. Every other test must pass; the lists are exact, so a
new failure or a test that starts passing both show up.

litmus stops after the first group with a failure, hence one run per group.
"""
import os
import re
import subprocess

from ruche_test import new_user

PASSWORD = "correct horse"

NOT_APPLICABLE = {
    "basic": {
        "put_get": "PUTs a plain-text file into the calendar (not iCalendar: refused, 400)",
        "put_get_utf8_segment": "the same plain-text PUT under a UTF-8 name",
        "delete_fragment": "MKCOLs a collection inside the calendar (refused, 403)",
        "mkcol": "MKCOLs a collection inside the calendar (refused, 403)",
    },
    "props": {
        "propinit": "PUTs the plain-text resource that carries the properties (twice: tests 5 "
                    "and 25)",
        "propmanyns": "PROPPATCHes that resource, which propinit could not create (404)",
    },
}
DEPENDENT = {
    "basic": {
        "mkcol_over_plain": "MKCOL over put_get's plain file",
        "delete": "DELETE of put_get's plain file",
        "mkcol_again": "MKCOL over mkcol's collection",
        "delete_coll": "DELETE of mkcol's collection",
    },
    "props": {name: "PROPPATCH/PROPFIND/MOVE of propinit's plain file" for name in (
        "propset", "propget", "propmove", "propdeletes", "propreplace", "propnullns",
        "prophighunicode", "propremoveset", "propsetremove", "propvalnspace")},
}
# What still runs, and must pass: the group's set-up, OPTIONS, the 409 for a missing parent,
# DELETE of a missing resource (404), the 415 of a MKCOL with a body, malformed PROPFIND bodies,
# Depth 0 PROPFIND, extended and well-formed property names.
MUST_PASS = {
    "basic": {"init", "begin", "options", "put_no_parent", "delete_null", "mkcol_no_parent",
              "mkcol_with_body", "finish"},
    "props": {"init", "begin", "propfind_invalid", "propfind_invalid2", "propfind_d0",
              "propextended", "propwformed", "propcleanup", "finish"},
}

TEST_LINE = re.compile(r"^\s*(\d+)\.\s+(\w+)\.*\s*(.*)$")
CONTINUATION = re.compile(r"^\s+\.+\s*(.*)$")
OUTCOME = re.compile(r"^(pass|FAIL|SKIPPED)\b(.*)$")


def parse_litmus(output: str):
    """{number: (name, outcome, detail, warnings)} from litmus's progress output.

    litmus rewrites each line with '\\r' while a test runs ("3. put_get.... " then
    "\\r 3. put_get.... pass"); a warning is printed on the test's line and its outcome on a
    continuation line of dots. A failure's "(PUT of `<path>': 400 …)" may be cut by a CR or LF
    in the path (litmus sometimes prints garbage bytes there): it is joined back.
    """
    tests = {}
    current = None
    open_detail = False  # a FAIL's "(…)" cut by a CR or LF inside the path litmus prints
    for line in re.split(r"[\r\n]", output):
        line = re.sub(r"\x1b\[[0-9;]*m", "", line)
        m = TEST_LINE.match(line)
        if open_detail and not m and not CONTINUATION.match(line):
            name, outcome, detail, warnings = tests[current]
            tests[current] = (name, outcome, detail + " " + line.strip(), warnings)
            open_detail = ")" not in line
            continue
        open_detail = False
        rest = None
        if m:
            current = int(m.group(1))
            name = m.group(2)
            old = tests.get(current, (name, None, "", []))
            tests[current] = (name, old[1], old[2], old[3])
            rest = m.group(3)
        elif current is not None and (c := CONTINUATION.match(line)):
            rest = c.group(1)
        if not rest:
            continue
        name, outcome, detail, warnings = tests[current]
        if rest.startswith("WARNING"):
            warnings.append(rest)
        elif o := OUTCOME.match(rest):
            outcome, detail = o.group(1), o.group(2).strip()
            open_detail = detail.startswith("(") and ")" not in detail
        tests[current] = (name, outcome, detail, warnings)
    return tests


def run_litmus(url, user, group, cwd):
    env = dict(os.environ, TESTS=group)
    r = subprocess.run(["litmus", url, user, PASSWORD], capture_output=True, text=True,
                       errors="replace", timeout=300, env=env, cwd=cwd,
                       stdin=subprocess.DEVNULL)
    tests = parse_litmus(r.stdout)
    assert tests, r.stdout + r.stderr
    return tests, r.stdout


def check_group(server, user, group, cwd):
    url = f"http://{server.host}:{server.port}/dav/calendars/{user}/"
    tests, output = run_litmus(url, user, group, cwd)
    by_outcome = {"pass": set(), "FAIL": set(), "SKIPPED": set(), None: set()}
    for name, outcome, _detail, _warnings in tests.values():
        by_outcome[outcome].add(name)
    report = "\n".join(f"{n:3d} {t[0]:24s} {t[1]} {t[2]}" for n, t in sorted(tests.items()))
    assert not by_outcome[None], f"{group}: tests without an outcome\n{report}\n{output}"
    assert by_outcome["FAIL"] == set(NOT_APPLICABLE[group]), f"{group}:\n{report}"
    assert by_outcome["SKIPPED"] == set(DEPENDENT[group]), f"{group}:\n{report}"
    assert by_outcome["pass"] == MUST_PASS[group], f"{group}:\n{report}"
    # A name may repeat (props runs propget and propinit several times): none of its runs may
    # pass where another fails unexpectedly.
    assert not (by_outcome["pass"] & by_outcome["FAIL"]), report
    return tests


def test_litmus_basic_inside_a_calendar(server, tmp_path):
    user, _ = new_user(server, PASSWORD)
    tests = check_group(server, user, "basic", tmp_path)
    details = {name: detail for name, _, detail, _ in tests.values()}
    # The failures are the refusals CalDAV requires, not something else going wrong.
    assert "400" in details["put_get"] or "415" in details["put_get"], details["put_get"]
    assert "403" in details["mkcol"] or "405" in details["mkcol"], details["mkcol"]


def test_litmus_props_inside_a_calendar(server, tmp_path):
    user, _ = new_user(server, PASSWORD)
    tests = check_group(server, user, "props", tmp_path)
    details = [detail for name, _, detail, _ in tests.values() if name == "propinit"]
    assert all("400" in d or "415" in d for d in details), details


def test_litmus_cannot_start_inside_a_calendar_collection(server, tmp_path):
    # Run on the calendar collection itself, litmus's set-up MKCOL is refused, as CalDAV wants.
    user, _ = new_user(server, PASSWORD)
    url = f"http://{server.host}:{server.port}/dav/calendars/{user}/personal/"
    tests, output = run_litmus(url, user, "basic", tmp_path)
    outcomes = {name: (outcome, detail) for name, outcome, detail, _ in tests.values()}
    assert outcomes["init"][0] == "pass", output
    assert outcomes["begin"][0] == "FAIL", output
    assert re.search(r"\b(403|405)\b", outcomes["begin"][1]), output
