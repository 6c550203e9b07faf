"""Ruche's availability on top of Matrix presence ("org.ruche.availability"): chosen by the user
(busy, do not disturb), or derived from being in a meeting; delivered by /sync to people who
share a room, kept across a restart when chosen, hidden when the user appears offline."""
import asyncio
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from ruche_test import call, client_path, create_room, new_user

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_typing_presence import join_pair, presence_of, sync, sync_until  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from meeting_client import MeetingClient  # noqa: E402


def put_status(server, user, token, body, expect=200):
    resp = call(server, "PUT", client_path(f"/presence/{server.mxid(user)}/status"), body,
                token=token)
    assert resp.status == expect, (body, resp)
    return resp


def status_of(server, user, token):
    resp = call(server, "GET", client_path(f"/presence/{server.mxid(user)}/status"), token=token)
    assert resp.status == 200, resp
    return resp.json


def availability(content):
    return (content.get("org.ruche.availability"), content.get("org.ruche.availability_source"))


def test_chosen_availability_reaches_members_and_is_cleared_by_null(server):
    (a_name, a), (_, b), _ = join_pair(server)
    sync(server, a)
    since = sync(server, b)["next_batch"]
    put_status(server, a_name, a, {"presence": "online", "status_msg": "Focus",
                                   "org.ruche.availability": "dnd"})
    got, since = sync_until(server, b, since, lambda s: presence_of(s, server.mxid(a_name)))
    content = presence_of(got, server.mxid(a_name))
    assert content["presence"] == "online" and content["status_msg"] == "Focus"
    assert availability(content) == ("dnd", "user")

    # A client that knows nothing of availability (no field) leaves it as it is.
    put_status(server, a_name, a, {"presence": "online", "status_msg": "Still focused"})
    assert availability(status_of(server, a_name, b)) == ("dnd", "user")
    put_status(server, a_name, a, {"presence": "online", "org.ruche.availability": "busy"})
    assert availability(status_of(server, a_name, b)) == ("busy", "user")

    # Appearing offline hides it; coming back shows it again.
    put_status(server, a_name, a, {"presence": "offline"})
    content = status_of(server, a_name, b)
    assert content["presence"] == "offline" and availability(content) == (None, None)
    put_status(server, a_name, a, {"presence": "online"})
    assert availability(status_of(server, a_name, b)) == ("busy", "user")

    put_status(server, a_name, a, {"presence": "online", "org.ruche.availability": None})
    got, _ = sync_until(server, b, since, lambda s: (
        (c := presence_of(s, server.mxid(a_name))) is not None
        and "org.ruche.availability" not in c))
    assert availability(status_of(server, a_name, b)) == (None, None)


def test_availability_is_validated(server):
    name, token = new_user(server)
    for value in ["away", "", 3, True, {"x": 1}, "DND"]:
        resp = put_status(server, name, token,
                          {"presence": "online", "org.ruche.availability": value}, expect=400)
        assert resp.json["errcode"] == "M_INVALID_PARAM", resp
    # A refused request changed nothing.
    assert availability(status_of(server, name, token)) == (None, None)


def test_chosen_availability_survives_a_restart(start_server, workdir):
    data = workdir / "data"
    srv = start_server(data_dir=data)
    (a_name, a), (_, b), _ = join_pair(srv)
    put_status(srv, a_name, a, {"presence": "online", "org.ruche.availability": "dnd"})
    srv.stop()
    srv2 = start_server(data_dir=data)
    assert availability(status_of(srv2, a_name, b)) == ("dnd", "user")


def test_a_member_in_a_meeting_shows_in_a_meeting(server):
    (a_name, a), (_, b), _ = join_pair(server)
    sync(server, a)
    since = sync(server, b)["next_batch"]
    resp = call(server, "POST", "/_ruche/v1/meetings", {"title": "Point", "allow_guests": True},
                token=a)
    assert resp.status == 200, resp
    meeting_id = resp.json["id"]
    key = parse_qs(urlparse(resp.json["url"]).query)["k"][0]

    def in_meeting(s):
        c = presence_of(s, server.mxid(a_name))
        return c is not None and availability(c) == ("in_meeting", "meeting")

    async def scenario():
        nonlocal since
        async with MeetingClient(server, meeting_id, key, access_token=a):
            # A guest in the same meeting changes nobody's presence.
            async with MeetingClient(server, meeting_id, key, display_name="Invité"):
                _, since = await asyncio.to_thread(sync_until, server, b, since, in_meeting)
                # A choice of the user's own wins over the meeting.
                put_status(server, a_name, a, {"presence": "online",
                                               "org.ruche.availability": "dnd"})
                assert availability(status_of(server, a_name, b)) == ("dnd", "user")
                put_status(server, a_name, a, {"presence": "online",
                                               "org.ruche.availability": None})
                assert availability(status_of(server, a_name, b)) == ("in_meeting", "meeting")
        # Left: the availability goes, and the members' syncs hear of it.
        await asyncio.to_thread(sync_until, server, b, since, lambda s: (
            (c := presence_of(s, server.mxid(a_name))) is not None
            and "org.ruche.availability" not in c))
        assert availability(status_of(server, a_name, b)) == (None, None)

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_people_newly_met_get_each_others_presence(server):
    a_name, a = new_user(server)
    b_name, b = new_user(server)
    put_status(server, a_name, a, {"presence": "online", "status_msg": "Au bureau",
                                   "org.ruche.availability": "busy"})
    put_status(server, b_name, b, {"presence": "online", "status_msg": "En déplacement"})
    since_a = sync(server, a)["next_batch"]
    since_b = sync(server, b)["next_batch"]
    # Nothing changes in anyone's presence from here: only the new shared room.
    room = create_room(server, a, invite=[server.mxid(b_name)], is_direct=True)
    assert call(server, "POST", client_path(f"/rooms/{room}/join"), {}, token=b).status == 200
    # The one who joined learns the others' presence with the room…
    got = sync(server, b, since=since_b)
    content = presence_of(got, server.mxid(a_name))
    assert content is not None, got["presence"]
    assert content["status_msg"] == "Au bureau" and availability(content) == ("busy", "user")
    # …and the one already there learns the newcomer's with the join.
    got = sync(server, a, since=since_a)
    content = presence_of(got, server.mxid(b_name))
    assert content is not None and content["status_msg"] == "En déplacement", got["presence"]
