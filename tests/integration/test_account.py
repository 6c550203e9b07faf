"""Filters, account data (and its delivery by /sync), profiles and /capabilities."""
import urllib.parse

from ruche_test import call, client_path, new_user, query


def u(user_id: str) -> str:
    return urllib.parse.quote(user_id, safe="")


def test_filters_round_trip_and_are_private(server):
    name, token = new_user(server)
    me = server.mxid(name)
    flt = {"room": {"timeline": {"limit": 5}}, "presence": {"not_types": ["*"]}}
    created = call(server, "POST", client_path(f"/user/{u(me)}/filter"), flt, token=token)
    assert created.status == 200, created
    fid = created.json["filter_id"]
    assert isinstance(fid, str)
    got = call(server, "GET", client_path(f"/user/{u(me)}/filter/{fid}"), token=token)
    assert got.status == 200 and got.json == flt, got
    assert call(server, "GET", client_path(f"/user/{u(me)}/filter/999"),
                token=token).status == 404
    other_name, other = new_user(server)
    stolen = call(server, "GET", client_path(f"/user/{u(me)}/filter/{fid}"), token=other)
    assert stolen.status == 403


def test_account_data_is_stored_and_synced(server):
    name, token = new_user(server)
    me = server.mxid(name)
    first = call(server, "GET", query(client_path("/sync"), timeout="0"), token=token).json
    put = call(server, "PUT", client_path(f"/user/{u(me)}/account_data/org.example.settings"),
               {"theme": "dark"}, token=token)
    assert put.status == 200, put
    got = call(server, "GET", client_path(f"/user/{u(me)}/account_data/org.example.settings"),
               token=token)
    assert got.json == {"theme": "dark"}
    after = call(server, "GET", query(client_path("/sync"), since=first["next_batch"],
                                      timeout="0"), token=token).json
    assert {"type": "org.example.settings", "content": {"theme": "dark"}} in \
        after["account_data"]["events"]
    missing = call(server, "GET", client_path(f"/user/{u(me)}/account_data/nope"), token=token)
    assert missing.status == 404
    reserved = call(server, "PUT", client_path(f"/user/{u(me)}/account_data/m.fully_read"),
                    {}, token=token)
    assert reserved.status == 405


def test_room_account_data_needs_membership(server):
    name, token = new_user(server)
    me = server.mxid(name)
    room = call(server, "POST", client_path("/createRoom"), {}, token=token).json["room_id"]
    r = urllib.parse.quote(room, safe="")
    ok = call(server, "PUT", client_path(f"/user/{u(me)}/rooms/{r}/account_data/m.tag"),
              {"tags": {"u.work": {}}}, token=token)
    assert ok.status == 200, ok
    synced = call(server, "GET", query(client_path("/sync"), timeout="0"), token=token).json
    room_data = synced["rooms"]["join"][room]["account_data"]["events"]
    assert {"type": "m.tag", "content": {"tags": {"u.work": {}}}} in room_data
    other = "!elsewhere:" + server.server_name
    denied = call(server, "PUT", client_path(
        f"/user/{u(me)}/rooms/{urllib.parse.quote(other, safe='')}/account_data/m.tag"),
        {"tags": {}}, token=token)
    assert denied.status == 403


def test_profile_set_and_read_by_others(server):
    name, token = new_user(server)
    me = server.mxid(name)
    assert call(server, "PUT", client_path(f"/profile/{u(me)}/displayname"),
                {"displayname": "Camille Dupont"}, token=token).status == 200
    assert call(server, "PUT", client_path(f"/profile/{u(me)}/avatar_url"),
                {"avatar_url": "https://evil.example/x.png"}, token=token).status == 400
    _, reader = new_user(server)
    profile = call(server, "GET", client_path(f"/profile/{u(me)}"), token=reader)
    assert profile.json == {"displayname": "Camille Dupont"}, profile
    name_only = call(server, "GET", client_path(f"/profile/{u(me)}/displayname"), token=reader)
    assert name_only.json == {"displayname": "Camille Dupont"}
    forbidden = call(server, "PUT", client_path(f"/profile/{u(me)}/displayname"),
                     {"displayname": "hijack"}, token=reader)
    assert forbidden.status == 403
    nobody = call(server, "GET", client_path(f"/profile/{u('@nobody:' + server.server_name)}"),
                  token=reader)
    assert nobody.status == 404


def test_capabilities(server):
    _, token = new_user(server)
    caps = call(server, "GET", client_path("/capabilities"), token=token).json["capabilities"]
    assert caps["m.room_versions"]["default"] in caps["m.room_versions"]["available"]


def test_sync_honours_a_stored_filters_timeline_limit(server):
    name, token = new_user(server)
    me = server.mxid(name)
    room = call(server, "POST", client_path("/createRoom"), {}, token=token).json["room_id"]
    r = urllib.parse.quote(room, safe="")
    for i in range(5):
        call(server, "PUT", client_path(f"/rooms/{r}/send/m.room.message/f{i}"),
             {"msgtype": "m.text", "body": f"b{i}"}, token=token)
    fid = call(server, "POST", client_path(f"/user/{u(me)}/filter"),
               {"room": {"timeline": {"limit": 2}}}, token=token).json["filter_id"]
    synced = call(server, "GET", query(client_path("/sync"), filter=fid, timeout="0"),
                  token=token).json
    timeline = synced["rooms"]["join"][room]["timeline"]
    assert [e["content"]["body"] for e in timeline["events"]] == ["b3", "b4"]
    assert timeline["limited"] is True
    bad = call(server, "GET", query(client_path("/sync"), filter="12345", timeout="0"),
               token=token)
    assert bad.status == 404
