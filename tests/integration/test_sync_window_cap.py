"""An incremental /sync whose window holds more events than one read takes
(`limits.sync_window_events`) must still bring every room's newest events: the rooms past the
cap are not skipped (they were once — a client back from a busy week silently missed them)."""
from ruche_test import call, client_path, create_room, new_user, q, send, sync


def bodies(sync_json, room):
    joined = sync_json["rooms"]["join"].get(room)
    if joined is None:
        return None, None
    timeline = joined["timeline"]
    return ([e["content"].get("body") for e in timeline["events"]
             if e["type"] == "m.room.message"], timeline["limited"])


def test_rooms_past_the_window_cap_still_get_their_newest_events(start_server):
    srv = start_server(settings={"limits.sync_window_events": 20})
    (_, a), (b_name, b) = new_user(srv), new_user(srv)
    busy = create_room(srv, a, preset="public_chat")
    quiet = create_room(srv, a, preset="public_chat")
    for room in (busy, quiet):
        assert call(srv, "POST", client_path(f"/rooms/{q(room)}/join"), {},
                    token=b).status == 200
    since = sync(srv, b)["next_batch"]
    for i in range(25):
        send(srv, a, busy, f"busy {i}", f"b{i}")
    for i in range(3):
        send(srv, a, quiet, f"quiet {i}", f"q{i}")

    got = sync(srv, b, since=since)
    quiet_bodies, quiet_limited = bodies(got, quiet)
    assert quiet_bodies == ["quiet 0", "quiet 1", "quiet 2"], got["rooms"]["join"].keys()
    assert quiet_limited is False
    busy_bodies, busy_limited = bodies(got, busy)
    assert busy_bodies == [f"busy {i}" for i in range(15, 25)], "the newest ten (timeline limit)"
    assert busy_limited is True
    # And nothing is delivered twice: the next sync is empty for both rooms.
    again = sync(srv, b, since=got["next_batch"])
    assert bodies(again, quiet) == (None, None) and bodies(again, busy) == (None, None)
