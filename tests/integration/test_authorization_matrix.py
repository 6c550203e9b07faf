"""The authorization matrix: every endpoint family that exists today × every kind of actor, with
the outcome each actor must get, and checks that a denial reveals nothing.

Actors, relative to the module's private room (and, the same way, to its public room and its
private space):

- owner: created the rooms (power 100);
- member: joined, power 0;
- invited: invited, never joined;
- left: joined, then left (before the last message was sent);
- banned: joined, then banned (idem);
- nonmember: a signed-in user who was never in any of the rooms;
- admin: a server admin (`ruche admin create-user --admin`), never in the rooms: being an admin
  gives no access to rooms' content, only the directory powers docs/api.md grants admins;
- anonymous: no access token at all.

`ROWS` is the table: (family, endpoint, request, {actor: expected outcome}). Each row × actor is
one test, which also checks that a denial's body carries none of the world's secrets (message
texts and event IDs of the private room, its name and topic, the private space's, the victim's
account data, tags, filter and key backup) and, for writes, that a denied write changed nothing.
Reads by "left"/"banned" are denied outright (the spec lets a former member read up to their
leave; Ruche is stricter, which reveals nothing); their initial /sync leaves the room out (the
filter's include_leave defaults to false) and must never carry what was said after the leave.

Rows marked `hidden` also run in `test_nonmember_cannot_tell_a_private_room_from_a_missing_one`:
the non-member's answer for the real private room (or event, user, device) must equal the answer
for one that does not exist (status and errcode; the error text in a separate test).

Spec look-ups: /relations refuses with 404 M_NOT_FOUND ("the parent event was not found or the
user does not have permission to read this event", relations.yaml); /threads and /hierarchy with
403 (threads_list.yaml, space_hierarchy.yaml); /event and /context with 404. Assumed where the
spec is silent: POST /delete_devices naming another user's device answers 200 and skips it (as
Synapse); writes on another user's data are 403 M_FORBIDDEN (docs/api.md: "your own").

Ruche's own endpoints (meetings and their signalling, app passwords, calendars, booking types,
bookings and booking pages under `/_ruche/v1/...`, and CalDAV under `/dav/`) have their own
matrix in test_authorization_ruche_api.py. Not covered because the endpoints do not exist yet
(rows get added when they do): the admin HTTP API (`/_synapse/admin`-like or
`/_ruche/v1/admin/...`: there is none, admins only have the CLI), files (WebDAV), and POST
/rooms/{id}/forget (not in docs/api.md; the server answers 404 M_UNRECOGNIZED).

The world is built once per module (one server, ~20 users; the file runs in ~20 s); tests run
in file order and never undo each other's assumptions (fresh users for joins, leaves, kicks and
bans; fresh aliases, messages and devices where a row consumes one).
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import urllib.parse
import uuid
from pathlib import Path
from typing import Callable

import olm
import pytest

from olm_keys import OlmKeys, with_signature
from ruche_test import (Response, call, client_path, login, q, query, register, run_admin,
                        unique_name)

PASSWORD = "correct horse"
ADMIN_PASSWORD = "admin password 1"
BACKUP_ALG = "m.megolm_backup.v1.curve25519-aes-sha2"
MISSING_EVENT = "$" + "Nope" * 10 + "abc"  # well-formed (44 chars), never sent
ACTORS = ("owner", "member", "invited", "left", "banned", "nonmember", "admin", "anonymous")

# Outcomes: (status or set of statuses, errcode or None when any errcode is acceptable).
OK = (200, None)
DENY = (403, "M_FORBIDDEN")
NOT_FOUND = (404, "M_NOT_FOUND")
NO_TOKEN = (401, "M_MISSING_TOKEN")
REFUSED = (frozenset({400, 403}), None)  # a malformed-for-you request: any clear refusal


def outcomes(default, **kw) -> dict:
    """`default` for every signed-in actor, NO_TOKEN for anonymous, then the overrides (an
    override of None means the row does not apply to that actor)."""
    out = {a: default for a in ACTORS}
    out["anonymous"] = NO_TOKEN
    out.update(kw)
    return out


def members_only(deny=DENY, **kw) -> dict:
    return outcomes(deny, owner=OK, member=OK, **kw)


# -- the world ------------------------------------------------------------------------------------


@dataclasses.dataclass
class Actor:
    localpart: str
    uid: str
    token: str
    device: str
    password: str = PASSWORD


class World:
    """Everything the rows act on, built once per module."""

    def __init__(self, srv, admins: list[tuple[str, str]]):
        self.srv = srv
        sn = srv.server_name
        self.missing_room = f"!doesnotexist{uuid.uuid4().hex[:10]}:{sn}"
        self.nobody = f"@nobody-{uuid.uuid4().hex[:10]}:{sn}"
        self.anonymous_uid = f"@anonymous:{sn}"
        self.tag = uuid.uuid4().hex[:10]
        self.word = "quokka" + self.tag
        self.secrets: list[str] = []

        self.admin, *self.admin_pool = [self._login(name, pw) for name, pw in admins]
        (self.owner, self.member, self.invited, self.left, self.banned, self.nonmember,
         self.victim, self.stranger) = [self.new_actor() for _ in range(8)]

        name_p, topic_p = f"Hidden room {self.tag}", f"Hidden topic {self.tag}"
        self.private = self.create_room(preset="private_chat", name=name_p, topic=topic_p)
        self.public = self.create_room(preset="public_chat", visibility="public",
                                       name=f"Open room {self.tag}")
        name_c, topic_c = f"Inner room {self.tag}", f"Inner topic {self.tag}"
        self.inner = self.create_room(preset="private_chat", name=name_c, topic=topic_c)
        name_s = f"Private space {self.tag}"
        self.space = self.create_room(preset="private_chat", name=name_s,
                                      creation_content={"type": "m.space"})
        for child in (self.public, self.inner):
            self.ok(self.owner, "PUT",
                    f"/rooms/{q(self.space)}/state/m.space.child/{q(child)}", {"via": [sn]})
        self.secrets += [name_p, topic_p, name_c, topic_c, name_s]

        # The victim: a plain member of the private room whose own data nobody else may touch.
        self.place(self.victim, "member", self.private)

        # History everyone in the room saw, then the actors take their places, then a message
        # that those who left or were banned never saw.
        before_text = f"{self.word} before the leave {self.tag}"
        self.e_before = self.send(self.owner, self.private, before_text)
        self.place(self.member, "member", self.private)
        self.thread_root = self.send(self.member, self.private, f"thread root {self.tag}")
        self.thread_reply = self.send(
            self.owner, self.private, f"thread reply {self.tag}",
            relates={"rel_type": "m.thread", "event_id": self.thread_root})
        for room in (self.private, self.public, self.space):
            public = room == self.public
            if room != self.private:
                self.place(self.member, "member", room, public)
            self.place(self.invited, "invited", room, public)
            self.place(self.left, "left", room, public)
            self.place(self.banned, "banned", room, public)
        after_text = f"{self.word} after the leave {self.tag}"
        self.e_after = self.send(self.owner, self.private, after_text)
        self.message_texts = [before_text, after_text, f"thread root {self.tag}",
                              f"thread reply {self.tag}"]
        self.message_ids = [self.e_before, self.e_after, self.thread_root, self.thread_reply]
        self.secrets += self.message_texts + self.message_ids

        self._victim_data()
        self.media_bytes = f"media bytes {self.tag}".encode()
        resp = call(srv, "POST", "/_matrix/media/v3/upload", raw_body=self.media_bytes,
                    token=self.owner.token, headers={"Content-Type": "text/plain"})
        assert resp.status == 200, resp
        self.media_server, self.media_id = resp.json["content_uri"][len("mxc://"):].split("/")

    # -- building blocks --

    def _login(self, localpart: str, password: str) -> Actor:
        got = login(self.srv, localpart, password).json
        return Actor(localpart, got["user_id"], got["access_token"], got["device_id"], password)

    def new_actor(self) -> Actor:
        name = unique_name("authz")
        got = register(self.srv, name, PASSWORD).json
        return Actor(name, got["user_id"], got["access_token"], got["device_id"])

    def ok(self, who: Actor, method: str, path: str, body=None) -> Response:
        resp = call(self.srv, method, client_path(path), body, token=who.token)
        assert resp.status == 200, (method, path, resp)
        return resp

    def create_room(self, **body) -> str:
        return self.ok(self.owner, "POST", "/createRoom", body).json["room_id"]

    def send(self, who: Actor, room: str, text: str, relates=None) -> str:
        content = {"msgtype": "m.text", "body": text}
        if relates:
            content["m.relates_to"] = relates
        path = f"/rooms/{q(room)}/send/m.room.message/{uuid.uuid4().hex}"
        return self.ok(who, "PUT", path, content).json["event_id"]

    def place(self, who: Actor, state: str, room: str, public: bool = False) -> None:
        """Puts `who` in `state` (member, invited, left, banned) in `room`."""
        def membership(action, user=None, actor=self.owner):
            self.ok(actor, "POST", f"/rooms/{q(room)}/{action}",
                    {"user_id": user} if user else {})

        if state == "invited" or not public:
            membership("invite", who.uid)
        if state == "invited":
            return
        membership("join", actor=who)
        if state == "left":
            membership("leave", actor=who)
        elif state == "banned":
            membership("ban", who.uid)

    def membership_of(self, room: str, user: str) -> str | None:
        resp = call(self.srv, "GET", client_path(
            f"/rooms/{q(room)}/state/m.room.member/{q(user)}"), token=self.owner.token)
        return resp.json["membership"] if resp.status == 200 else None

    def actor(self, name: str) -> Actor | None:
        return None if name == "anonymous" else getattr(self, name)

    def fresh(self, name: str, room: str) -> Actor | None:
        """A new user in the same state as actor `name`, for rows that use the state up."""
        if name in ("owner", "anonymous"):
            return self.actor(name)
        if name == "admin":
            assert self.admin_pool, "not enough spare admins: raise SPARE_ADMINS"
            return self.admin_pool.pop()
        who = self.new_actor()
        if name != "nonmember":
            self.place(who, name, room, public=room == self.public)
        return who

    def _victim_data(self) -> None:
        v, room, tag = self.victim, self.private, self.tag
        self.victim_marker = f"victim-secret-{tag}"
        self.victim_tag = f"u.victim-{tag}"
        self.victim_name = f"Victim {tag}"
        self.ok(v, "PUT", f"/user/{q(v.uid)}/rooms/{q(room)}/account_data/org.ruche.authz",
                {"secret": self.victim_marker})
        self.ok(v, "PUT", f"/user/{q(v.uid)}/account_data/org.ruche.authz",
                {"secret": self.victim_marker})
        self.ok(v, "PUT", f"/user/{q(v.uid)}/rooms/{q(room)}/tags/{q(self.victim_tag)}",
                {"order": 0.5})
        self.victim_filter = self.ok(v, "POST", f"/user/{q(v.uid)}/filter", {
            "room": {"rooms": [room], "timeline": {"types": [self.victim_marker]}}}
        ).json["filter_id"]
        self.ok(v, "PUT", f"/profile/{q(v.uid)}/displayname", {"displayname": self.victim_name})
        self.ok(v, "PUT", f"/devices/{v.device}", {"display_name": self.victim_name})
        # E2EE: device keys, cross-signing keys, a backup holding one session.
        self.victim_olm = OlmKeys(v.uid, v.device)
        self.victim_device_keys = self.victim_olm.device_keys()
        self.ok(v, "POST", "/keys/upload", {"device_keys": self.victim_device_keys})
        self.cs = {u: olm.PkSigning(olm.PkSigning.generate_seed())
                   for u in ("master", "self_signing", "user_signing")}
        self.master_kid = f"ed25519:{self.cs['master'].public_key}"
        self.ssk_kid = f"ed25519:{self.cs['self_signing'].public_key}"
        keys = {}
        for usage, signer in self.cs.items():
            obj = {"user_id": v.uid, "usage": [usage],
                   "keys": {f"ed25519:{signer.public_key}": signer.public_key}}
            if usage != "master":
                obj = with_signature(obj, v.uid, self.master_kid, self.cs["master"].sign)
            keys[f"{usage}_key"] = obj
        self.ok(v, "POST", "/keys/device_signing/upload", keys)
        self.ok(v, "POST", "/room_keys/version",
                {"algorithm": BACKUP_ALG, "auth_data": {"public_key": self.victim_marker}})
        self.backup_session = {"first_message_index": 0, "forwarded_count": 0,
                               "is_verified": False,
                               "session_data": {"ciphertext": self.victim_marker}}
        self.ok(v, "PUT", query(f"/room_keys/keys/{q(room)}/victim-session", version="1"),
                self.backup_session)
        self.secrets += [self.victim_marker, self.victim_tag]

    def victim_keys_query(self) -> dict:
        return self.ok(self.victim, "POST", "/keys/query",
                       {"device_keys": {self.victim.uid: []}}).json


# -- one request --------------------------------------------------------------------------------


class Ctx:
    """What a row's request is built from: the actor and the things it targets (overridable, so
    the same request can be aimed at a room, event, user or device that does not exist)."""

    def __init__(self, w: World, actor: str, who: Actor | None, room: str):
        self.w, self.actor, self.who, self.room = w, actor, who, room
        self.event = w.e_before
        self.target = w.victim.uid
        self.device = w.victim.device
        self.filter_id = w.victim_filter
        self.sent: list[str] = []

    @property
    def token(self):
        return self.who.token if self.who else None

    @property
    def uid(self):
        return self.who.uid if self.who else self.w.anonymous_uid

    def call(self, method: str, path: str, body=None, **kw) -> Response:
        full = path if path.startswith("/_matrix") else client_path(path)
        self.sent.append(urllib.parse.unquote(full) + (json.dumps(body) if body else ""))
        return call(self.w.srv, method, full, body, token=self.token, **kw)


@dataclasses.dataclass
class Row:
    family: str
    what: str
    request: Callable[[Ctx], Response]
    expect: dict
    room: str = "private"              # World attribute of the room the row targets
    prepare: Callable[[Ctx], None] | None = None   # per-test setup (sets attributes on ctx)
    verify: Callable[[Ctx, Response], None] | None = None   # effects, after the status check
    fresh: bool = False                # the row uses the actor's state up: a new user per test
    hidden: tuple[str, ...] = ()       # targets compared with missing ones: room/event/user/device

    @property
    def id(self) -> str:
        return f"{self.family}: {self.what}"


def run(row: Row, w: World, actor: str, **overrides) -> tuple[Ctx, Response]:
    room = getattr(w, row.room)
    who = w.fresh(actor, room) if row.fresh else w.actor(actor)
    c = Ctx(w, actor, who, room)
    if row.prepare:
        row.prepare(c)
    for key, value in overrides.items():
        setattr(c, key, value)
    return c, row.request(c)


def leaked(w: World, c: Ctx, resp: Response, secrets=None) -> list[str]:
    """The secrets found in the answer that the request itself did not carry."""
    body = resp.body.decode("utf-8", "replace")
    sent = "\n".join(c.sent)
    return [s for s in (w.secrets if secrets is None else secrets) if s in body and s not in sent]


def rp(c: Ctx, tail: str = "") -> str:
    return f"/rooms/{q(c.room)}{tail}"


def txn() -> str:
    return uuid.uuid4().hex


# -- per-row setup and effect checks --------------------------------------------------------------


def prep_text(c: Ctx):
    c.text = f"probe {uuid.uuid4().hex}"


def check_not_sent(c: Ctx, resp: Response):
    history = c.w.ok(c.w.owner, "GET", query(rp(c, "/messages"), dir="b", limit="30")).json
    bodies = [e["content"].get("body") for e in history["chunk"]]
    assert (c.text in bodies) == (resp.status == 200), (c.actor, bodies)


def prep_state_key(c: Ctx):
    c.state_key = uuid.uuid4().hex


def check_state(c: Ctx, resp: Response):
    got = call(c.w.srv, "GET", client_path(rp(c, f"/state/org.ruche.authz/{c.state_key}")),
               token=c.w.owner.token)
    assert got.status == (200 if resp.status == 200 else 404), got


def prep_target(state: str | None):
    """A fresh user for invite/kick/ban/unban: a stranger, or in `state` in the room."""
    def prepare(c: Ctx):
        who = c.w.new_actor()
        if state:
            c.w.place(who, state, c.room)
        c.target = who.uid
    return prepare


def check_membership(allowed: str | None, denied: str | None):
    def verify(c: Ctx, resp: Response):
        want = allowed if resp.status == 200 else denied
        assert c.w.membership_of(c.room, c.target) == want, (c.actor, resp)
    return verify


STATE_MEMBERSHIP = {"owner": "join", "member": "join", "invited": "invite", "left": "leave",
                    "banned": "ban", "nonmember": None, "admin": None}


def check_own_membership(allowed: str):
    """After the actor's own join or leave: `allowed` if it was allowed, else unchanged."""
    def verify(c: Ctx, resp: Response):
        if c.who is None:
            return
        want = allowed if resp.status == 200 else STATE_MEMBERSHIP[c.actor]
        assert c.w.membership_of(c.room, c.who.uid) == want, (c.actor, resp)
    return verify


def prep_owner_message(c: Ctx):
    c.text = f"to be redacted {uuid.uuid4().hex}"
    c.event = c.w.send(c.w.owner, c.room, c.text)


def check_redaction(c: Ctx, resp: Response):
    ev = c.w.ok(c.w.owner, "GET", rp(c, f"/event/{q(c.event)}")).json
    assert (ev["content"].get("body") == c.text) == (resp.status != 200), ev


def prep_alias(c: Ctx):
    c.alias = f"#authz-{uuid.uuid4().hex[:12]}:{c.w.srv.server_name}"


def prep_victim_alias(c: Ctx):
    prep_alias(c)
    c.w.ok(c.w.victim, "PUT", f"/directory/room/{q(c.alias)}", {"room_id": c.w.private})


def check_alias(exists_if_allowed: bool):
    def verify(c: Ctx, resp: Response):
        got = call(c.w.srv, "GET", client_path(f"/directory/room/{q(c.alias)}"))
        exists = exists_if_allowed == (resp.status == 200)
        assert got.status == (200 if exists else 404), (c.actor, got)
        if exists:
            assert got.json["room_id"] == c.w.private
    return verify


def check_visibility(c: Ctx, resp: Response):
    path = f"/directory/list/room/{q(c.w.private)}"
    got = c.w.ok(c.w.owner, "GET", path).json["visibility"]
    assert got == ("public" if resp.status == 200 else "private"), (c.actor, got)
    if got == "public":  # put it back for the rows and tests that follow
        c.w.ok(c.w.owner, "PUT", path, {"visibility": "private"})


def check_victim_room_data(c: Ctx, resp: Response):
    v = c.w.victim
    got = c.w.ok(v, "GET", f"/user/{q(v.uid)}/rooms/{q(c.w.private)}/account_data/"
                           "org.ruche.authz").json
    assert got == {"secret": c.w.victim_marker}, got


def check_victim_global_data(c: Ctx, resp: Response):
    v = c.w.victim
    got = c.w.ok(v, "GET", f"/user/{q(v.uid)}/account_data/org.ruche.authz").json
    assert got == {"secret": c.w.victim_marker}, got


def check_victim_tags(c: Ctx, resp: Response):
    v = c.w.victim
    got = c.w.ok(v, "GET", f"/user/{q(v.uid)}/rooms/{q(c.w.private)}/tags").json["tags"]
    assert list(got) == [c.w.victim_tag], got


def check_victim_profile(c: Ctx, resp: Response):
    got = c.w.ok(c.w.owner, "GET", f"/profile/{q(c.w.victim.uid)}").json
    assert got.get("displayname") == c.w.victim_name and got.get("avatar_url") is None, got


def check_victim_device_name(c: Ctx, resp: Response):
    got = c.w.ok(c.w.victim, "GET", f"/devices/{c.w.victim.device}").json
    assert got["display_name"] == c.w.victim_name, got


def check_victim_presence(c: Ctx, resp: Response):
    got = c.w.ok(c.w.owner, "GET", f"/presence/{q(c.w.victim.uid)}/status").json
    assert got.get("status_msg") != "hijacked" and got["presence"] != "unavailable", got


def prep_victim_device(c: Ctx):
    got = login(c.w.srv, c.w.victim.localpart, PASSWORD).json
    c.device, c.victim_token = got["device_id"], got["access_token"]


def check_victim_device_alive(c: Ctx, resp: Response):
    who = call(c.w.srv, "GET", client_path("/account/whoami"), token=c.victim_token)
    assert who.status == 200, ("the victim's device was signed out", c.actor, resp, who)
    devices = c.w.ok(c.w.victim, "GET", "/devices").json["devices"]
    assert c.device in {d["device_id"] for d in devices}


def delete_devices_with_own_password(c: Ctx) -> Response:
    body = {"devices": [c.device]}
    first = c.call("POST", "/delete_devices", body)
    if first.status != 401 or "session" not in (first.json or {}):
        return first
    body["auth"] = {"type": "m.login.password", "session": first.json["session"],
                    "password": c.who.password,
                    "identifier": {"type": "m.id.user", "user": c.who.localpart}}
    return c.call("POST", "/delete_devices", body)


def check_victim_backup(c: Ctx, resp: Response):
    v, room = c.w.victim, c.w.private
    info = c.w.ok(v, "GET", "/room_keys/version").json
    assert info["version"] == "1" and info["auth_data"] == {"public_key": c.w.victim_marker}
    got = c.w.ok(v, "GET", query(f"/room_keys/keys/{q(room)}/victim-session", version="1")).json
    assert got == c.w.backup_session, got


def prep_created_media(c: Ctx):
    resp = call(c.w.srv, "POST", "/_matrix/media/v1/create", token=c.w.owner.token)
    assert resp.status == 200, resp
    c.created = resp.json["content_uri"][len("mxc://"):]


def check_created_media(c: Ctx, resp: Response):
    got = call(c.w.srv, "GET", f"/_matrix/client/v1/media/download/{c.created}",
               token=c.w.owner.token)
    if resp.status == 200:
        assert got.status == 200 and got.body == b"actor bytes", got
    else:
        assert got.status == 504 and got.errcode == "M_NOT_YET_UPLOADED", got


def check_messages_visible(c: Ctx, resp: Response):
    ids = [e["event_id"] for e in resp.json["chunk"]]
    assert {c.w.e_before, c.w.e_after} <= set(ids), ids


def check_thread_visible(c: Ctx, resp: Response):
    assert c.w.thread_reply in [e["event_id"] for e in resp.json["chunk"]], resp


def check_thread_root_listed(c: Ctx, resp: Response):
    assert c.w.thread_root in [e["event_id"] for e in resp.json["chunk"]], resp


def check_uploaded(c: Ctx, resp: Response):
    if resp.status == 200:
        assert resp.json["content_uri"].startswith(f"mxc://{c.w.srv.server_name}/"), resp


def check_media_bytes(c: Ctx, resp: Response):
    if resp.status == 200:
        assert resp.body == c.w.media_bytes, resp
    else:
        assert c.w.media_bytes not in resp.body, resp


def check_still_private(c: Ctx, resp: Response):
    assert resp.json == {"visibility": "private"}, resp


def check_search(c: Ctx, resp: Response):
    w = c.w
    if c.who is None:
        return
    results = resp.json["search_categories"]["room_events"]["results"]
    found = {r["result"]["event_id"] for r in results if r["result"]["room_id"] == w.private}
    if c.actor in ("owner", "member"):
        assert {w.e_before, w.e_after} <= found, (c.actor, found)
    else:
        # Only rooms the requester is joined to now: one who left finds neither the new
        # messages nor the old ones; the others never find anything of the room.
        assert not found and not leaked(w, c, resp), (c.actor, found, leaked(w, c, resp))


def check_sync(c: Ctx, resp: Response):
    if c.who is None:
        return
    w, rooms = c.w, resp.json["rooms"]
    body = resp.body.decode()
    if c.actor in ("owner", "member"):
        assert w.private in rooms["join"], (c.actor, list(rooms["join"]))
    elif c.actor == "invited":
        assert w.private in rooms["invite"] and w.private not in rooms["join"]
        # Stripped state may name the room; no message reaches an invitee.
        assert not leaked(w, c, resp, w.message_texts + w.message_ids), leaked(
            w, c, resp, w.message_texts + w.message_ids)
    elif c.actor in ("left", "banned"):
        # An initial sync leaves out rooms the user left (the filter's include_leave defaults
        # to false); whatever it says of the room, nothing after the leave reaches them.
        assert w.private not in rooms["join"] and w.private not in rooms["invite"], rooms
        assert w.e_after not in body and w.message_texts[1] not in body, (
            "history after the leave reached a former member", c.actor)
    else:
        assert w.private not in body and not leaked(w, c, resp), (c.actor, leaked(w, c, resp))


def check_hierarchy(c: Ctx, resp: Response):
    w = c.w
    ids = [r["room_id"] for r in resp.json["rooms"]]
    if c.actor == "owner":
        assert sorted(ids) == sorted([w.space, w.public, w.inner]), ids
    else:
        # The private child the requester is not in is skipped, name and topic included.
        assert sorted(ids) == sorted([w.space, w.public]), (c.actor, ids)
        inner = [f"Inner room {w.tag}", f"Inner topic {w.tag}"]
        assert not leaked(w, c, resp, inner), leaked(w, c, resp, inner)


def check_public_rooms(c: Ctx, resp: Response):
    ids = [r["room_id"] for r in resp.json["chunk"]]
    assert c.w.public in ids, ids
    assert not {c.w.private, c.w.inner, c.w.space} & set(ids), ids


def check_keys_query(c: Ctx, resp: Response):
    assert c.w.victim.device in resp.json["device_keys"][c.w.victim.uid], resp


def prep_forged_device_keys(c: Ctx):
    # Device keys naming the victim as owner, self-signed by a key pair the actor controls.
    c.forged_device = "FORGED" + uuid.uuid4().hex[:8].upper()
    c.forged_keys = OlmKeys(c.w.victim.uid, c.forged_device).device_keys()


def check_no_forged_device(c: Ctx, resp: Response):
    devices = c.w.victim_keys_query()["device_keys"][c.w.victim.uid]
    assert c.forged_device not in devices and c.w.victim.device in devices, devices


def prep_forged_master(c: Ctx):
    signer = olm.PkSigning(olm.PkSigning.generate_seed())
    c.forged_master = {"user_id": c.w.victim.uid, "usage": ["master"],
                       "keys": {f"ed25519:{signer.public_key}": signer.public_key}}


def check_master_unchanged(c: Ctx, resp: Response):
    master = c.w.victim_keys_query()["master_keys"][c.w.victim.uid]
    assert list(master["keys"]) == [c.w.master_kid], master


def ssk_signature_of_victim_device(c: Ctx) -> Response:
    # A valid signature by the victim's self-signing key over the victim's device, which the
    # victim never uploaded: sent by someone else, it must not be taken as the victim's.
    signed = with_signature(c.w.victim_device_keys, c.w.victim.uid, c.w.ssk_kid,
                            c.w.cs["self_signing"].sign)
    return c.call("POST", "/keys/signatures/upload",
                  {c.w.victim.uid: {c.w.victim.device: signed}})


def check_signature_refused(c: Ctx, resp: Response):
    if resp.status == 200:
        failures = resp.json.get("failures", {}).get(c.w.victim.uid, {})
        assert c.w.victim.device in failures, ("accepted a signature as another user", resp)
    dev = c.w.victim_keys_query()["device_keys"][c.w.victim.uid][c.w.victim.device]
    assert c.w.ssk_kid not in dev["signatures"].get(c.w.victim.uid, {}), dev


# -- the table --------------------------------------------------------------------------------


def send_message(c):
    return c.call("PUT", rp(c, f"/send/m.room.message/{txn()}"),
                  {"msgtype": "m.text", "body": c.text})


ROWS = [
    # rooms
    Row("rooms", "PUT send m.room.message (private room)", send_message, members_only(),
        prepare=prep_text, verify=check_not_sent, hidden=("room",)),
    Row("rooms", "PUT send m.room.message (public room)", send_message, members_only(),
        room="public", prepare=prep_text, verify=check_not_sent),
    Row("rooms", "PUT state (custom type, power 50)",
        lambda c: c.call("PUT", rp(c, f"/state/org.ruche.authz/{c.state_key}"), {"x": 1}),
        outcomes(DENY, owner=OK), prepare=prep_state_key, verify=check_state, hidden=("room",)),
    Row("rooms", "GET state", lambda c: c.call("GET", rp(c, "/state")), members_only(),
        hidden=("room",)),
    Row("rooms", "GET state/m.room.topic", lambda c: c.call("GET", rp(c, "/state/m.room.topic/")),
        members_only(), hidden=("room",)),
    Row("rooms", "GET members", lambda c: c.call("GET", rp(c, "/members")), members_only(),
        hidden=("room",)),
    Row("rooms", "GET joined_members", lambda c: c.call("GET", rp(c, "/joined_members")),
        members_only(), hidden=("room",)),
    Row("rooms", "POST invite (a new user)",
        lambda c: c.call("POST", rp(c, "/invite"), {"user_id": c.target}), members_only(),
        prepare=prep_target(None), verify=check_membership("invite", None), hidden=("room",)),
    Row("rooms", "POST kick (a member)",
        lambda c: c.call("POST", rp(c, "/kick"), {"user_id": c.target}),
        outcomes(DENY, owner=OK), prepare=prep_target("member"),
        verify=check_membership("leave", "join"), hidden=("room",)),
    Row("rooms", "POST ban (a member)",
        lambda c: c.call("POST", rp(c, "/ban"), {"user_id": c.target}),
        outcomes(DENY, owner=OK), prepare=prep_target("member"),
        verify=check_membership("ban", "join"), hidden=("room",)),
    Row("rooms", "POST unban (a banned user)",
        lambda c: c.call("POST", rp(c, "/unban"), {"user_id": c.target}),
        outcomes(DENY, owner=OK), prepare=prep_target("banned"),
        verify=check_membership("leave", "ban"), hidden=("room",)),
    Row("rooms", "PUT redact (the owner's message)",
        lambda c: c.call("PUT", rp(c, f"/redact/{q(c.event)}/{txn()}"), {}),
        outcomes(DENY, owner=OK), prepare=prep_owner_message, verify=check_redaction,
        hidden=("room", "event")),
    Row("rooms", "POST join (invite-only room)", lambda c: c.call("POST", rp(c, "/join"), {}),
        outcomes(DENY, owner=OK, member=OK, invited=OK), fresh=True,
        verify=check_own_membership("join"), hidden=("room",)),
    Row("rooms", "POST join (public room)", lambda c: c.call("POST", rp(c, "/join"), {}),
        outcomes(OK, banned=DENY), room="public", fresh=True,
        verify=check_own_membership("join")),
    Row("rooms", "POST leave", lambda c: c.call("POST", rp(c, "/leave"), {}),
        outcomes(DENY, owner=None, member=OK, invited=OK), fresh=True,
        verify=check_own_membership("leave"), hidden=("room",)),
    Row("rooms", "GET aliases", lambda c: c.call("GET", rp(c, "/aliases")), members_only(),
        hidden=("room",)),
    # history
    Row("history", "GET messages (private room)",
        lambda c: c.call("GET", query(rp(c, "/messages"), dir="b", limit="500")),
        members_only(), verify=lambda c, r: r.status == 200 and check_messages_visible(c, r),
        hidden=("room",)),
    Row("history", "GET messages (public room, history shared)",
        lambda c: c.call("GET", query(rp(c, "/messages"), dir="b", limit="10")),
        members_only(), room="public"),
    Row("history", "GET event/{eventId}", lambda c: c.call("GET", rp(c, f"/event/{q(c.event)}")),
        members_only(NOT_FOUND), hidden=("room", "event")),
    Row("history", "GET context/{eventId}",
        lambda c: c.call("GET", rp(c, f"/context/{q(c.event)}")), members_only(NOT_FOUND),
        hidden=("room", "event")),
    Row("history", "GET v1 relations/{eventId} (thread root)",
        lambda c: c.call("GET", f"/_matrix/client/v1/rooms/{q(c.room)}/relations/"
                                f"{q(c.event)}"),
        members_only(NOT_FOUND), prepare=lambda c: setattr(c, "event", c.w.thread_root),
        verify=lambda c, r: r.status == 200 and check_thread_visible(c, r),
        hidden=("room", "event")),
    Row("history", "GET v1 threads",
        lambda c: c.call("GET", f"/_matrix/client/v1/rooms/{q(c.room)}/threads"),
        members_only(), verify=lambda c, r: r.status == 200 and check_thread_root_listed(c, r),
        hidden=("room",)),
    # receipts, read markers, typing
    Row("ephemeral", "POST receipt m.read",
        lambda c: c.call("POST", rp(c, f"/receipt/m.read/{q(c.event)}"), {}), members_only(),
        hidden=("room", "event")),
    Row("ephemeral", "POST read_markers",
        lambda c: c.call("POST", rp(c, "/read_markers"),
                         {"m.fully_read": c.event, "m.read": c.event}),
        members_only(), hidden=("room", "event")),
    Row("ephemeral", "PUT typing (yourself)",
        lambda c: c.call("PUT", rp(c, f"/typing/{q(c.uid)}"), {"typing": False}),
        members_only(), hidden=("room",)),
    Row("ephemeral", "PUT typing (as another member)",
        lambda c: c.call("PUT", rp(c, f"/typing/{q(c.target)}"), {"typing": True}),
        outcomes(DENY)),
    # account data and tags
    Row("account data", "PUT own room account data",
        lambda c: c.call("PUT", f"/user/{q(c.uid)}/rooms/{q(c.room)}/account_data/org.x",
                         {"x": 1}),
        members_only(), hidden=("room",)),
    Row("account data", "PUT own tag",
        lambda c: c.call("PUT", f"/user/{q(c.uid)}/rooms/{q(c.room)}/tags/u.mine", {}),
        members_only(), hidden=("room",)),
    Row("account data", "GET another user's room account data",
        lambda c: c.call("GET", f"/user/{q(c.target)}/rooms/{q(c.room)}/account_data/"
                                "org.ruche.authz"),
        outcomes(DENY), hidden=("user",)),
    Row("account data", "PUT another user's room account data",
        lambda c: c.call("PUT", f"/user/{q(c.target)}/rooms/{q(c.room)}/account_data/"
                                "org.ruche.authz", {"secret": "overwritten"}),
        outcomes(DENY), verify=check_victim_room_data),
    Row("account data", "GET another user's tags",
        lambda c: c.call("GET", f"/user/{q(c.target)}/rooms/{q(c.room)}/tags"),
        outcomes(DENY), hidden=("user",)),
    Row("account data", "PUT another user's tag",
        lambda c: c.call("PUT", f"/user/{q(c.target)}/rooms/{q(c.room)}/tags/u.planted", {}),
        outcomes(DENY), verify=check_victim_tags),
    Row("account data", "DELETE another user's tag",
        lambda c: c.call("DELETE", f"/user/{q(c.target)}/rooms/{q(c.room)}/tags/"
                                   f"{q(c.w.victim_tag)}"),
        outcomes(DENY), verify=check_victim_tags),
    Row("account data", "GET another user's global account data",
        lambda c: c.call("GET", f"/user/{q(c.target)}/account_data/org.ruche.authz"),
        outcomes(DENY), hidden=("user",)),
    Row("account data", "PUT another user's global account data",
        lambda c: c.call("PUT", f"/user/{q(c.target)}/account_data/org.ruche.authz",
                         {"secret": "overwritten"}),
        outcomes(DENY), verify=check_victim_global_data),
    # profile
    Row("profile", "PUT another user's displayname",
        lambda c: c.call("PUT", f"/profile/{q(c.target)}/displayname",
                         {"displayname": "hijacked"}),
        outcomes(DENY), verify=check_victim_profile, hidden=("user",)),
    Row("profile", "PUT another user's avatar_url",
        lambda c: c.call("PUT", f"/profile/{q(c.target)}/avatar_url",
                         {"avatar_url": f"mxc://{c.w.srv.server_name}/hijacked"}),
        outcomes(DENY), verify=check_victim_profile),
    # filters
    Row("filters", "POST another user's filter",
        lambda c: c.call("POST", f"/user/{q(c.target)}/filter", {}), outcomes(DENY),
        hidden=("user",)),
    Row("filters", "GET another user's filter",
        lambda c: c.call("GET", f"/user/{q(c.target)}/filter/{c.filter_id}"), outcomes(DENY),
        hidden=("user",)),
    # devices
    Row("devices", "GET another user's device",
        lambda c: c.call("GET", f"/devices/{q(c.device)}"), outcomes(NOT_FOUND),
        hidden=("device",)),
    Row("devices", "PUT another user's device",
        lambda c: c.call("PUT", f"/devices/{q(c.device)}", {"display_name": "hijacked"}),
        outcomes(NOT_FOUND), verify=check_victim_device_name, hidden=("device",)),
    Row("devices", "DELETE another user's device",
        lambda c: c.call("DELETE", f"/devices/{q(c.device)}", {}), outcomes(NOT_FOUND),
        prepare=prep_victim_device, verify=check_victim_device_alive),
    # Assumed (spec: "deletes the given devices"; Synapse skips others'): another user's device
    # is skipped silently after the requester's own password; it must never be signed out.
    Row("devices", "POST delete_devices (another user's, own password)",
        delete_devices_with_own_password, outcomes(OK), prepare=prep_victim_device,
        verify=check_victim_device_alive),
    # presence
    Row("presence", "GET presence of a stranger",
        lambda c: c.call("GET", f"/presence/{q(c.target)}/status"), outcomes(DENY),
        prepare=lambda c: setattr(c, "target", c.w.stranger.uid), hidden=("user",)),
    Row("presence", "GET presence of a room-mate of the owner (the member)",
        lambda c: c.call("GET", f"/presence/{q(c.w.member.uid)}/status"),
        outcomes(DENY, owner=OK, member=OK)),
    Row("presence", "PUT another user's presence",
        lambda c: c.call("PUT", f"/presence/{q(c.target)}/status",
                         {"presence": "unavailable", "status_msg": "hijacked"}),
        outcomes(DENY), verify=check_victim_presence, hidden=("user",)),
    # media (a file is reached by its mxc URL: no room check, but a token on the v1 routes)
    Row("media", "POST upload",
        lambda c: c.call("POST", "/_matrix/media/v3/upload", raw_body=b"hello",
                         headers={"Content-Type": "text/plain"}), outcomes(OK),
        verify=check_uploaded),
    Row("media", "GET v1 download (authenticated)",
        lambda c: c.call("GET", f"/_matrix/client/v1/media/download/{c.w.media_server}/"
                                f"{c.w.media_id}"), outcomes(OK),
        verify=check_media_bytes),
    Row("media", "GET v3 download (legacy, no token by design)",
        lambda c: c.call("GET", f"/_matrix/media/v3/download/{c.w.media_server}/"
                                f"{c.w.media_id}"), outcomes(OK, anonymous=OK),
        verify=check_media_bytes),
    Row("media", "PUT bytes of another user's /create'd media ID",
        lambda c: c.call("PUT", f"/_matrix/media/v3/upload/{c.created}", raw_body=b"actor bytes",
                         headers={"Content-Type": "text/plain"}),
        outcomes(DENY, owner=OK), prepare=prep_created_media, verify=check_created_media),
    # search
    Row("search", "POST search (a word of the private room)",
        lambda c: c.call("POST", client_path("/search"), {"search_categories": {
            "room_events": {"search_term": c.w.word}}}), outcomes(OK), verify=check_search),
    # sync
    Row("sync", "GET sync (full)",
        lambda c: c.call("GET", query("/sync", timeout="0",
                                      filter='{"room":{"timeline":{"limit":50}}}')),
        outcomes(OK), verify=check_sync),
    # directory
    Row("directory", "PUT alias for the room",
        lambda c: c.call("PUT", f"/directory/room/{q(c.alias)}", {"room_id": c.room}),
        members_only(), prepare=prep_alias, verify=check_alias(True), hidden=("room",)),
    Row("directory", "DELETE alias made by another member (power 0)",
        lambda c: c.call("DELETE", f"/directory/room/{q(c.alias)}"),
        outcomes(DENY, owner=OK, admin=OK), prepare=prep_victim_alias,
        verify=check_alias(False)),
    Row("directory", "PUT directory visibility",
        lambda c: c.call("PUT", f"/directory/list/room/{q(c.room)}", {"visibility": "public"}),
        outcomes(DENY, owner=OK, admin=OK), verify=check_visibility, hidden=("room",)),
    Row("directory", "GET directory visibility (public by spec)",
        lambda c: c.call("GET", f"/directory/list/room/{q(c.room)}"),
        outcomes(OK, anonymous=OK), verify=check_still_private,
        hidden=("room",)),
    Row("directory", "POST publicRooms",
        lambda c: c.call("POST", "/publicRooms", {"limit": 500}), outcomes(OK),
        verify=lambda c, r: r.status == 200 and check_public_rooms(c, r)),
    # hierarchy
    Row("hierarchy", "GET v1 hierarchy of a private space",
        lambda c: c.call("GET", f"/_matrix/client/v1/rooms/{q(c.room)}/hierarchy"),
        outcomes(DENY, owner=OK, member=OK, invited=OK), room="space",
        verify=lambda c, r: r.status == 200 and check_hierarchy(c, r), hidden=("room",)),
    # end-to-end encryption
    Row("e2ee", "POST keys/query (public by design)",
        lambda c: c.call("POST", "/keys/query", {"device_keys": {c.target: []}}),
        outcomes(OK), verify=lambda c, r: r.status == 200 and check_keys_query(c, r)),
    Row("e2ee", "POST keys/upload of device keys for another user",
        lambda c: c.call("POST", "/keys/upload", {"device_keys": c.forged_keys}),
        outcomes(REFUSED), prepare=prep_forged_device_keys, verify=check_no_forged_device),
    Row("e2ee", "POST keys/device_signing/upload of another user's master key",
        lambda c: c.call("POST", "/keys/device_signing/upload",
                         {"master_key": c.forged_master}),
        outcomes(REFUSED), prepare=prep_forged_master, verify=check_master_unchanged),
    Row("e2ee", "POST keys/signatures/upload of a signature as another user",
        ssk_signature_of_victim_device, outcomes((frozenset({200, 400, 403}), None)),
        verify=check_signature_refused),
    Row("e2ee", "PUT sendToDevice to another user (allowed to anyone)",
        lambda c: c.call("PUT", f"/sendToDevice/org.ruche.authz/{txn()}",
                         {"messages": {c.target: {c.device: {"hello": c.actor}}}}),
        outcomes(OK)),
    Row("e2ee", "GET another user's key backup version",
        lambda c: c.call("GET", "/room_keys/version/1"), outcomes(NOT_FOUND)),
    Row("e2ee", "GET another user's backed-up keys",
        lambda c: c.call("GET", query("/room_keys/keys", version="1")), outcomes(NOT_FOUND)),
    Row("e2ee", "PUT a key into another user's backup",
        lambda c: c.call("PUT", query(f"/room_keys/keys/{q(c.w.private)}/victim-session",
                                      version="1"),
                         {"first_message_index": 0, "forwarded_count": 0, "is_verified": True,
                          "session_data": {"ciphertext": "planted"}}),
        outcomes(NOT_FOUND), verify=check_victim_backup),
    Row("e2ee", "DELETE another user's key backup version",
        lambda c: c.call("DELETE", "/room_keys/version/1"), outcomes(NOT_FOUND),
        verify=check_victim_backup),
]

# A spare admin for each row that may use an admin's state up (rows with `fresh`).
SPARE_ADMINS = sum(1 for r in ROWS if r.fresh and r.expect.get("admin") is not None)


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world_server(module_servers):
    data = Path(tempfile.mkdtemp(prefix="ruche-authz-"))
    admins = []
    for _ in range(1 + SPARE_ADMINS):
        name = unique_name("admin")
        res = run_admin("create-user", name, "--password", ADMIN_PASSWORD, "--admin",
                        data_dir=data)
        assert res.returncode == 0, res
        admins.append((name, ADMIN_PASSWORD))
    srv = module_servers.start(
        data_dir=data, registration="open",
        settings={"media.uploads_per_user_burst": "1000000",
                  "media.uploads_per_user_per_second": "1000",
                  "limits.to_device_per_user_burst": "1000000",
                  "limits.to_device_per_user_per_second": "1000"})
    yield srv, World(srv, admins)
    srv.stop()
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def world(world_server):
    srv, w = world_server
    assert srv.alive(), f"ruche is not running\n{srv.describe_output()}"
    yield w
    if not srv.alive():
        pytest.fail(f"ruche exited on its own with code {srv.stop()} during this test\n"
                    f"{srv.describe_output()}", pytrace=False)


# -- the matrix ---------------------------------------------------------------------------------


def describe(expected) -> str:
    status, errcode = expected
    status = sorted(status) if isinstance(status, frozenset) else status
    return f"{status} {errcode or ''}".strip()


CASES = [pytest.param(row, actor, id=f"{row.id} | {actor}")
         for row in ROWS for actor in ACTORS if row.expect.get(actor) is not None]


@pytest.mark.parametrize("row,actor", CASES)
def test_authorization_matrix(world, row, actor):
    c, resp = run(row, world, actor)
    status, errcode = row.expect[actor]
    statuses = status if isinstance(status, frozenset) else {status}
    assert resp.status in statuses and (errcode is None or resp.errcode == errcode), (
        f"{row.id}, actor {actor}: expected {describe(row.expect[actor])}, got {resp.status} "
        f"{resp.body[:300]!r}")
    if resp.status >= 400:
        found = leaked(world, c, resp)
        assert not found, f"{row.id}, actor {actor}: the denial reveals {found}: {resp.body!r}"
    if row.verify:
        row.verify(c, resp)


# -- denial reveals nothing ---------------------------------------------------------------------


HIDDEN_ROWS = [pytest.param(row, id=row.id) for row in ROWS if row.hidden]


def missing_variants(row: Row, w: World) -> dict[str, dict]:
    variants = {}
    if "room" in row.hidden:
        variants["a room that does not exist"] = {"room": w.missing_room}
    if "event" in row.hidden:
        variants["an event that does not exist"] = {"event": MISSING_EVENT}
        variants["neither room nor event exist"] = {"room": w.missing_room,
                                                     "event": MISSING_EVENT}
    if "user" in row.hidden:
        variants["a user who does not exist"] = {"target": w.nobody, "filter_id": "424242"}
    if "device" in row.hidden:
        variants["a device that does not exist"] = {"device": "NOSUCHDEVICE"}
    return variants


def nonmember_answers(row: Row, w: World):
    c, real = run(row, w, "nonmember")
    yield "the real one", c, real
    for label, over in missing_variants(row, w).items():
        c, resp = run(row, w, "nonmember", **over)
        yield label, c, resp


@pytest.mark.parametrize("row", HIDDEN_ROWS)
def test_nonmember_cannot_tell_a_private_room_from_a_missing_one(world, row):
    """Same status and errcode (and, when allowed, the same body) for the private room, event,
    user or device as for one that does not exist."""
    answers = list(nonmember_answers(row, world))
    _, _, real = answers[0]
    for label, _, resp in answers[1:]:
        assert (resp.status, resp.errcode) == (real.status, real.errcode), (
            f"{row.id}: a non-member gets {real.status} {real.body!r} for the real target but "
            f"{resp.status} {resp.body!r} for {label}")
        if real.status == 200:
            assert resp.json == real.json, (label, real, resp)


def normalised_error(c: Ctx, resp: Response) -> str | None:
    text = (resp.json or {}).get("error") if isinstance(resp.json, dict) else None
    if text is None:
        return None
    for value, placeholder in ((c.room, "<room>"), (c.event, "<event>"), (c.target, "<user>"),
                               (c.device, "<device>")):
        text = text.replace(value, placeholder)
    return text


@pytest.mark.parametrize("row", HIDDEN_ROWS)
def test_nonmember_error_text_is_the_same_for_a_missing_target(world, row):
    """The human error text must not tell the two apart either (IDs replaced by placeholders)."""
    answers = list(nonmember_answers(row, world))
    _, c0, real = answers[0]
    for label, c, resp in answers[1:]:
        assert normalised_error(c, resp) == normalised_error(c0, real), (
            f"{row.id}: error text {real.json!r} for the real target, {resp.json!r} for {label}")


def test_matrix_covers_every_actor_and_family():
    """The table itself: every actor appears, and each family has at least one row."""
    families = {row.family for row in ROWS}
    assert families >= {"rooms", "history", "ephemeral", "account data", "profile", "filters",
                        "devices", "presence", "media", "search", "sync", "directory",
                        "hierarchy", "e2ee"}, families
    for row in ROWS:
        assert set(row.expect) == set(ACTORS), row.id
    assert len({row.id for row in ROWS}) == len(ROWS)


def test_the_refused_signature_is_accepted_from_its_owner(world):
    """Control for the signatures row (runs after the matrix, as it stores the signature): the
    signature the others could not upload is valid, so their refusal came from who sent it."""
    c = Ctx(world, "victim", world.victim, world.private)
    resp = ssk_signature_of_victim_device(c)
    assert resp.status == 200 and resp.json["failures"] == {}, resp
    dev = world.victim_keys_query()["device_keys"][world.victim.uid][world.victim.device]
    assert world.ssk_kid in dev["signatures"][world.victim.uid], dev
