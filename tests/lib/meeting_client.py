"""A meeting participant for tests: the signalling WebSocket (Debian's python3-websockets) and,
for media, Debian's python3-aiortc as a real WebRTC stack (ICE, DTLS, SRTP, VP8, Opus).

    async with MeetingClient(server, meeting_id, key, display_name="Ana") as ana:
        await ana.publish(video=True, audio=True)
        frame = await ana.next_video_frame()
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import websockets

TIMEOUT_S = 20.0


def loopback_only_ice():
    """aioice gathers every interface's address but 127.0.0.1; the tests' server only listens
    on loopback, so gather exactly that."""
    import aioice.ice

    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []


def ws_url(server, meeting_id: str) -> str:
    return f"ws://{server.host}:{server.port}/_ruche/v1/meetings/{meeting_id}/ws"


@dataclass
class MeetingClient:
    server: object
    meeting_id: str
    key: str
    display_name: str | None = None
    access_token: str | None = None
    ws: object = None
    joined: dict | None = None
    inbox: asyncio.Queue = field(default_factory=asyncio.Queue)
    send_pc: object = None
    recv_pc: object = None
    tracks: dict = field(default_factory=dict)  # mid -> remote track
    consumers: list = field(default_factory=list)
    _reader: asyncio.Task | None = None
    _auto_answer: bool = True
    errors: list = field(default_factory=list)
    seen: list = field(default_factory=list)  # every message, in order

    async def __aenter__(self) -> "MeetingClient":
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def connect(self, join: bool = True) -> None:
        self.ws = await websockets.connect(ws_url(self.server, self.meeting_id),
                                           max_size=1 << 20, open_timeout=TIMEOUT_S)
        if join:
            msg = {"type": "join", "key": self.key}
            if self.access_token:
                msg["access_token"] = self.access_token
            if self.display_name:
                msg["display_name"] = self.display_name
            await self.send(msg)
            first = json.loads(await asyncio.wait_for(self.ws.recv(), TIMEOUT_S))
            if first["type"] != "joined":
                raise JoinRefused(first)
            self.joined = first
            self._reader = asyncio.ensure_future(self._read())

    async def send(self, message: dict) -> None:
        await self.ws.send(json.dumps(message))

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                self.seen.append(msg)
                if msg["type"] == "subscribe_offer" and self._auto_answer:
                    await self._answer(msg)
                elif msg["type"] == "error":
                    self.errors.append(msg)
                await self.inbox.put(msg)
        except websockets.ConnectionClosed:
            pass

    async def expect(self, type_: str, predicate=lambda m: True, timeout: float = TIMEOUT_S):
        """The next message of `type_` satisfying `predicate` (others are skipped)."""
        async def wait():
            while True:
                msg = await self.inbox.get()
                if msg["type"] == type_ and predicate(msg):
                    return msg
        try:
            return await asyncio.wait_for(wait(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"no {type_} message within {timeout}s; errors: {self.errors}")

    # -- media ---------------------------------------------------------------------------------

    async def publish(self, audio: bool = True, video: bool = True) -> dict:
        from aiortc import RTCPeerConnection, RTCSessionDescription
        from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

        self.send_pc = RTCPeerConnection()
        if audio:
            self.send_pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
        if video:
            self.send_pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
        await self.send_pc.setLocalDescription(await self.send_pc.createOffer())
        await self.send({"type": "publish", "sdp": self.send_pc.localDescription.sdp})
        answer = await self.expect("publish_answer")
        await self.send_pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        return answer

    async def subscribe(self, producer_ids: list[str]) -> None:
        await self.send({"type": "subscribe", "producer_ids": producer_ids})

    async def _answer(self, offer: dict) -> None:
        from aiortc import RTCPeerConnection, RTCSessionDescription

        if self.recv_pc is None:
            self.recv_pc = RTCPeerConnection()

            @self.recv_pc.on("track")
            def on_track(track):
                # aiortc names the receiver's transceiver by the offer's mid.
                for t in self.recv_pc.getTransceivers():
                    if t.receiver.track is track:
                        self.tracks[t.mid] = track

        self.consumers = offer["consumers"]
        await self.recv_pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
        await self.recv_pc.setLocalDescription(await self.recv_pc.createAnswer())
        await self.send({"type": "subscribe_answer", "sdp": self.recv_pc.localDescription.sdp})

    async def track_of(self, producer_id: str, timeout: float = TIMEOUT_S):
        async def wait():
            while True:
                for c in self.consumers:
                    if c["producer_id"] == producer_id and c["mid"] in self.tracks:
                        return self.tracks[c["mid"]]
                await asyncio.sleep(0.05)
        return await asyncio.wait_for(wait(), timeout)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.wait([self._reader], timeout=5)
        for pc in (self.send_pc, self.recv_pc):
            if pc is not None:
                await pc.close()
        if self.ws is not None:
            await self.ws.close()


class JoinRefused(Exception):
    def __init__(self, message: dict):
        super().__init__(f"join refused: {message}")
        self.message = message
