"""Room aliases, the public room directory and the user directory."""
import urllib.parse

from ruche_test import call, client_path, login, new_user, query, register, unique_name


def q(s: str) -> str:
    return urllib.parse.quote(s, safe="")


def create_room(server, token, expect=200, **body):
    resp = call(server, "POST", client_path("/createRoom"), body, token=token)
    assert resp.status == expect, resp
    return resp.json.get("room_id") if expect == 200 else resp


def alias_of(server, local=None):
    return f"#{local or unique_name('a')}:{server.server_name}"


def put_alias(server, token, alias, room, expect=200):
    resp = call(server, "PUT", client_path(f"/directory/room/{q(alias)}"), {"room_id": room},
                token=token)
    assert resp.status == expect, resp
    return resp


def get_alias(server, token, alias):
    return call(server, "GET", client_path(f"/directory/room/{q(alias)}"), token=token)


def delete_alias(server, token, alias):
    return call(server, "DELETE", client_path(f"/directory/room/{q(alias)}"), token=token)


def join(server, token, room_or_alias, expect=200):
    resp = call(server, "POST", client_path(f"/join/{q(room_or_alias)}"), {}, token=token)
    assert resp.status == expect, resp
    return resp


def public_rooms(server, token, method="GET", **kw):
    if method == "GET":
        resp = call(server, "GET", query(client_path("/publicRooms"), **kw) if kw else
                    client_path("/publicRooms"), token=token)
    else:
        resp = call(server, "POST", client_path("/publicRooms"), kw, token=token)
    assert resp.status == 200, resp
    return resp.json


def all_public_ids(server, token, **filter_kw):
    ids, since = [], None
    for _ in range(100):
        body = {"limit": 50, **filter_kw}
        if since:
            body["since"] = since
        page = public_rooms(server, token, method="POST", **body)
        ids += [r["room_id"] for r in page["chunk"]]
        since = page.get("next_batch")
        if not since:
            return ids
    raise AssertionError("pagination did not end")


# -- aliases -------------------------------------------------------------------------------


def test_alias_lifecycle_and_conflict(server):
    _, alice = new_user(server)
    room = create_room(server, alice)
    alias = alias_of(server)
    put_alias(server, alice, alias, room)
    got = get_alias(server, alice, alias)
    assert got.status == 200 and got.json == {"room_id": room, "servers": [server.server_name]}
    assert get_alias(server, None, alias).json["room_id"] == room  # no token needed (spec)
    other = create_room(server, alice)
    taken = put_alias(server, alice, alias, other, expect=409)
    assert taken.json["errcode"] == "M_UNKNOWN"
    listed = call(server, "GET", client_path(f"/rooms/{q(room)}/aliases"), token=alice)
    assert listed.status == 200 and listed.json == {"aliases": [alias]}
    assert delete_alias(server, alice, alias).status == 200
    assert get_alias(server, alice, alias).status == 404
    assert get_alias(server, alice, alias).json["errcode"] == "M_NOT_FOUND"
    assert delete_alias(server, alice, alias).status == 404


def test_alias_validation(server):
    _, alice = new_user(server)
    room = create_room(server, alice)
    for bad in ["nohash:" + server.server_name, "#:" + server.server_name, "#a b:" +
                server.server_name, "#nocolon", "#x:other.example", "#" + "x" * 300 + ":" +
                server.server_name]:
        resp = put_alias(server, alice, bad, room, expect=400)
        assert resp.json["errcode"] == "M_INVALID_PARAM", (bad, resp)
    assert get_alias(server, alice, "#x:other.example").status == 404
    put_alias(server, alice, alias_of(server, "caf\u00e9-" + unique_name()), room)


def test_alias_permissions(server):
    _, alice = new_user(server)
    _, bob = new_user(server)
    _, carol = new_user(server)
    room = create_room(server, alice, preset="public_chat")
    alias = alias_of(server)
    # A non-member cannot point an alias at the room (nor learn if it exists).
    assert put_alias(server, bob, alias, room, expect=403).json["errcode"] == "M_FORBIDDEN"
    assert put_alias(server, bob, alias, "!nope:" + server.server_name, expect=403)
    join(server, bob, room)
    join(server, carol, room)
    put_alias(server, bob, alias, room)
    # carol (power 0) may not remove bob's alias; bob (its creator) may.
    assert delete_alias(server, carol, alias).status == 403
    assert delete_alias(server, bob, alias).status == 200
    # The room admin (power 100, canonical_alias needs 50) removes anyone's alias.
    alias2 = alias_of(server)
    put_alias(server, carol, alias2, room)
    assert delete_alias(server, alice, alias2).status == 200
    # /rooms/{id}/aliases is for members only.
    _, dave = new_user(server)
    resp = call(server, "GET", client_path(f"/rooms/{q(room)}/aliases"), token=dave)
    assert resp.status == 403


def test_server_admin_may_delete_any_alias(start_server):
    srv = start_server(bootstrap_admin=True)
    admin_user, _, password = srv.bootstrap_credentials()
    admin = login(srv, admin_user, password).json["access_token"]
    _, alice = new_user(srv)
    room = create_room(srv, alice)
    alias = alias_of(srv)
    put_alias(srv, alice, alias, room)
    assert delete_alias(srv, admin, alias).status == 200
    assert get_alias(srv, alice, alias).status == 404


def test_create_room_with_alias_and_join_by_alias(server):
    _, alice = new_user(server)
    _, bob = new_user(server)
    local = unique_name("room")
    room = create_room(server, alice, room_alias_name=local, preset="public_chat")
    alias = f"#{local}:{server.server_name}"
    assert get_alias(server, bob, alias).json["room_id"] == room
    state = call(server, "GET", client_path(f"/rooms/{q(room)}/state/m.room.canonical_alias/"),
                 token=alice)
    assert state.status == 200 and state.json == {"alias": alias}
    joined = join(server, bob, alias)
    assert joined.json["room_id"] == room
    rooms = call(server, "GET", client_path("/joined_rooms"), token=bob).json["joined_rooms"]
    assert room in rooms
    # Taken: M_ROOM_IN_USE and no room left behind.
    before = call(server, "GET", client_path("/joined_rooms"), token=alice).json["joined_rooms"]
    resp = create_room(server, alice, expect=400, room_alias_name=local)
    assert resp.json["errcode"] == "M_ROOM_IN_USE"
    after = call(server, "GET", client_path("/joined_rooms"), token=alice).json["joined_rooms"]
    assert sorted(before) == sorted(after)
    bad = create_room(server, alice, expect=400, room_alias_name="a:b")
    assert bad.json["errcode"] == "M_INVALID_PARAM"
    assert join(server, bob, "#missing-" + unique_name() + ":" + server.server_name,
                expect=404).json["errcode"] == "M_NOT_FOUND"


def test_join_by_alias_of_private_room_is_refused(server):
    _, alice = new_user(server)
    _, bob = new_user(server)
    local = unique_name("priv")
    create_room(server, alice, room_alias_name=local)
    resp = join(server, bob, f"#{local}:{server.server_name}", expect=403)
    assert resp.json["errcode"] == "M_FORBIDDEN"


# -- public room directory -----------------------------------------------------------------


def test_public_rooms_lists_published_public_rooms_only(server):
    _, alice = new_user(server)
    _, outsider = new_user(server)
    tag = unique_name("dir")
    published = create_room(server, alice, visibility="public", name=f"{tag} general",
                            topic="Everything", room_alias_name=tag)
    unpublished = create_room(server, alice, preset="public_chat", name=f"{tag} quiet")
    private = create_room(server, alice, name=f"{tag} secret")
    # Publishing a private (invite-only) room still keeps it out of the list.
    resp = call(server, "PUT", client_path(f"/directory/list/room/{q(private)}"),
                {"visibility": "public"}, token=alice)
    assert resp.status == 200, resp
    ids = all_public_ids(server, outsider)
    assert published in ids
    assert unpublished not in ids and private not in ids
    chunk = next(r for r in public_rooms(server, outsider, method="POST", limit=500,
                                         filter={"generic_search_term": tag})["chunk"]
                 if r["room_id"] == published)
    assert chunk["name"] == f"{tag} general" and chunk["topic"] == "Everything"
    assert chunk["canonical_alias"] == f"#{tag}:{server.server_name}"
    assert chunk["num_joined_members"] == 1 and chunk["join_rule"] == "public"
    assert chunk["world_readable"] is False and chunk["guest_can_join"] is False
    # Search by name, topic and alias, case-insensitively.
    assert all_public_ids(server, outsider, filter={"generic_search_term": tag.upper()}) == \
        [published]
    assert all_public_ids(server, outsider, filter={"generic_search_term": "no-such-" + tag}) \
        == []
    # Visibility reads back; an unknown room looks like a private one.
    vis = call(server, "GET", client_path(f"/directory/list/room/{q(published)}"))
    assert vis.status == 200 and vis.json == {"visibility": "public"}
    vis = call(server, "GET", client_path(f"/directory/list/room/{q(unpublished)}"))
    assert vis.json == {"visibility": "private"}
    vis = call(server, "GET", client_path("/directory/list/room/!nope:x"))
    assert vis.status == 200 and vis.json == {"visibility": "private"}
    # Unpublish.
    resp = call(server, "PUT", client_path(f"/directory/list/room/{q(published)}"),
                {"visibility": "private"}, token=alice)
    assert resp.status == 200
    assert published not in all_public_ids(server, outsider)
    # A room that stops being public drops out even while published.
    again = create_room(server, alice, visibility="public", name=f"{tag} again")
    assert again in all_public_ids(server, outsider)
    resp = call(server, "PUT", client_path(f"/rooms/{q(again)}/state/m.room.join_rules/"),
                {"join_rule": "invite"}, token=alice)
    assert resp.status == 200
    assert again not in all_public_ids(server, outsider)


def test_directory_visibility_needs_power(server):
    _, alice = new_user(server)
    _, bob = new_user(server)
    room = create_room(server, alice, preset="public_chat")
    resp = call(server, "PUT", client_path(f"/directory/list/room/{q(room)}"),
                {"visibility": "public"}, token=bob)
    assert resp.status == 403
    join(server, bob, room)
    resp = call(server, "PUT", client_path(f"/directory/list/room/{q(room)}"),
                {"visibility": "public"}, token=bob)
    assert resp.status == 403
    resp = call(server, "PUT", client_path(f"/directory/list/room/{q(room)}"),
                {"visibility": "sideways"}, token=alice)
    assert resp.status == 400
    assert call(server, "GET", client_path("/publicRooms")).status == 401


def test_public_rooms_pagination(server):
    _, alice = new_user(server)
    tag = unique_name("pg")
    made = {create_room(server, alice, visibility="public", name=f"{tag} {i}") for i in range(5)}
    seen, since = [], None
    for _ in range(10):
        body = {"limit": 2, "filter": {"generic_search_term": tag}}
        if since:
            body["since"] = since
        page = public_rooms(server, alice, method="POST", **body)
        assert page["total_room_count_estimate"] == 5
        seen += [r["room_id"] for r in page["chunk"]]
        if since:
            assert "prev_batch" in page
        since = page.get("next_batch")
        if not since:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 5
    got = public_rooms(server, alice, limit="1")
    assert len(got["chunk"]) == 1 and "next_batch" in got
    bad = call(server, "GET", query(client_path("/publicRooms"), since="zzz"), token=alice)
    assert bad.status == 400


# -- user directory ------------------------------------------------------------------------


def search_users(server, token, term, limit=None, expect=200):
    body = {"search_term": term}
    if limit is not None:
        body["limit"] = limit
    resp = call(server, "POST", client_path("/user_directory/search"), body, token=token)
    assert resp.status == expect, resp
    return resp.json


def test_user_directory_finds_everyone_by_name_or_localpart(server):
    tag = unique_name("ud").replace("-", "")
    name = f"{tag}-marie"
    reg = register(server, name)
    marie = reg.json["access_token"]
    resp = call(server, "PUT", client_path(f"/profile/{q(server.mxid(name))}/displayname"),
                {"displayname": f"Marie Curie {tag}"}, token=marie)
    assert resp.status == 200
    _, stranger = new_user(server)  # shares no room with marie
    for term in [tag, tag.upper(), "marie curie", "CURIE", f"@{name}", server.mxid(name)]:
        res = search_users(server, stranger, term)
        assert [r["user_id"] for r in res["results"]] == [server.mxid(name)], term
        assert res["results"][0]["display_name"] == f"Marie Curie {tag}"
    assert search_users(server, stranger, "zz-nobody-" + tag)["results"] == []
    # LIKE wildcards are literal characters.
    assert search_users(server, stranger, "%")["results"] == [] or all(
        "%" in (r.get("display_name") or "") + r["user_id"]
        for r in search_users(server, stranger, "%")["results"])


def test_user_directory_limit(server):
    tag = unique_name("lim").replace("-", "")
    for i in range(4):
        register(server, f"{tag}-{i}")
    _, me = new_user(server)
    res = search_users(server, me, tag, limit=3)
    assert len(res["results"]) == 3 and res["limited"] is True
    res = search_users(server, me, tag)
    assert len(res["results"]) == 4 and res["limited"] is False
    res = search_users(server, me, tag, limit=1000)
    assert len(res["results"]) == 4
    assert search_users(server, me, "x" * 300, expect=400)["errcode"] == "M_INVALID_PARAM"
    assert search_users(server, me, tag, limit=-1, expect=400)


def test_user_directory_skips_deactivated_accounts(start_server, workdir):
    import sqlite3

    data = workdir / "data"
    srv = start_server(data_dir=data)
    tag = unique_name("gone").replace("-", "")
    register(srv, f"{tag}-left")
    register(srv, f"{tag}-stays")
    srv.stop()
    db = sqlite3.connect(data / "ruche.db")
    with db:
        db.execute("UPDATE users SET deactivated = 1 WHERE localpart = ?", (f"{tag}-left",))
    db.close()
    srv = start_server(data_dir=data)
    _, me = new_user(srv)
    res = search_users(srv, me, tag)
    assert [r["user_id"] for r in res["results"]] == [srv.mxid(f"{tag}-stays")]
