"""Media through Ruche's SFU with Debian's python3-aiortc as the WebRTC stack on both ends: ICE
against Ruche's ICE-lite, DTLS (Ruche as server, fingerprints checked), SRTP, and real VP8 and
Opus frames decoded by the subscriber."""
import asyncio
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from ruche_test import call, new_user

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from meeting_client import MeetingClient, loopback_only_ice  # noqa: E402

loopback_only_ice()


def create_meeting(server, token):
    resp = call(server, "POST", "/_ruche/v1/meetings", {"title": "Media", "allow_guests": True},
                token=token)
    assert resp.status == 200, resp
    return resp.json["id"], parse_qs(urlparse(resp.json["url"]).query)["k"][0]


async def frames(track, count, timeout=20):
    got = []
    for _ in range(count):
        got.append(await asyncio.wait_for(track.recv(), timeout))
    return got


def test_video_and_audio_flow_from_publisher_to_subscriber(server):
    _, token = new_user(server)
    meeting_id, key = create_meeting(server, token)

    async def scenario():
        async with MeetingClient(server, meeting_id, key, display_name="Pub") as pub, \
                MeetingClient(server, meeting_id, key, display_name="Sub") as sub:
            answer = await pub.publish(audio=True, video=True)
            assert "a=ice-lite" in answer["sdp"]
            kinds = sorted(p["kind"] for p in answer["producers"])
            assert kinds == ["audio", "video"]
            # The subscriber hears about both producers and subscribes.
            ids = []
            for _ in range(2):
                added = await sub.expect("producer_added")
                assert added["producer"]["participant_id"] == pub.joined["participant_id"]
                ids.append(added["producer"]["producer_id"])
            await sub.subscribe(ids)
            offer = await sub.expect("subscribe_offer")
            assert sorted(c["kind"] for c in offer["consumers"]) == ["audio", "video"]

            video_id = next(p["producer_id"] for p in answer["producers"] if p["kind"] == "video")
            audio_id = next(p["producer_id"] for p in answer["producers"] if p["kind"] == "audio")
            video = await sub.track_of(video_id)
            decoded = await frames(video, 10)
            # aiortc's test source is 640x480; VP8 decoded back to that size.
            assert {(f.width, f.height) for f in decoded} == {(640, 480)}
            assert decoded[-1].pts > decoded[0].pts
            audio = await sub.track_of(audio_id)
            sound = await frames(audio, 10)
            assert all(f.sample_rate == 48000 for f in sound)

            # The publisher leaves: the subscriber is told and gets a new offer without it.
            await pub.send({"type": "leave"})
            removed = await sub.expect("producer_removed")
            assert removed["producer_id"] in ids
            reoffer = await sub.expect("subscribe_offer",
                                       lambda m: not m["consumers"])
            assert "a=inactive" in reoffer["sdp"]
            assert not sub.errors

    asyncio.run(asyncio.wait_for(scenario(), 90))


def test_three_participants_each_receive_the_other_two(server):
    _, token = new_user(server)
    meeting_id, key = create_meeting(server, token)

    async def scenario():
        clients = [MeetingClient(server, meeting_id, key, display_name=f"P{i}") for i in range(3)]
        for c in clients:
            await c.connect()
        try:
            producers = {}
            for c in clients:
                answer = await c.publish(audio=False, video=True)
                producers[c.joined["participant_id"]] = answer["producers"][0]["producer_id"]
            for c in clients:
                mine = c.joined["participant_id"]
                await c.subscribe([p for owner, p in producers.items() if owner != mine])
            for c in clients:
                mine = c.joined["participant_id"]
                for owner, producer_id in producers.items():
                    if owner == mine:
                        continue
                    track = await c.track_of(producer_id)
                    got = await frames(track, 5)
                    assert got[0].width == 640
        finally:
            for c in clients:
                await c.close()

    asyncio.run(asyncio.wait_for(scenario(), 120))
