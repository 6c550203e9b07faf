"""matrix-nio 0.20 uses the media repository (its r0 paths): upload a file with
AsyncClient.upload, download it byte-for-byte, and fetch a thumbnail of an uploaded image."""
import asyncio
import io

from nio import (AsyncClient, AsyncClientConfig, DownloadResponse, ThumbnailResponse,
                 UploadResponse)
from nio.api import ResizingMethod
from PIL import Image

from ruche_test import unique_name

CONFIG = AsyncClientConfig(max_limit_exceeded=0, max_timeouts=0, request_timeout=20)
PAYLOAD = bytes(range(256)) * 64 + b"\x00end\x00"


async def _client(server):
    name = unique_name("nio")
    client = AsyncClient(server.url, name, config=CONFIG)
    reg = await client.register(name, "nio password", device_name="nio media")
    assert reg.user_id == server.mxid(name), reg
    client.access_token, client.user_id, client.device_id = (reg.access_token, reg.user_id,
                                                             reg.device_id)
    return client


async def _upload_download(server):
    client = await _client(server)
    try:
        resp, keys = await client.upload(lambda *_: io.BytesIO(PAYLOAD),
                                         content_type="application/x-nio-test",
                                         filename="payload.bin", filesize=len(PAYLOAD))
        assert isinstance(resp, UploadResponse), resp
        assert keys is None
        assert resp.content_uri.startswith(f"mxc://{server.server_name}/")

        got = await client.download(resp.content_uri)
        assert isinstance(got, DownloadResponse), got
        assert got.body == PAYLOAD
        assert got.content_type == "application/x-nio-test"
        assert got.filename == "payload.bin"

        img = io.BytesIO()
        Image.new("RGB", (400, 300), (200, 30, 60)).save(img, format="PNG")
        data = img.getvalue()
        resp, _ = await client.upload(lambda *_: io.BytesIO(data), content_type="image/png",
                                      filename="red.png", filesize=len(data))
        assert isinstance(resp, UploadResponse), resp
        media_id = resp.content_uri.rsplit("/", 1)[1]
        thumb = await client.thumbnail(server.server_name, media_id, 96, 96, ResizingMethod.crop)
        assert isinstance(thumb, ThumbnailResponse), thumb
        decoded = Image.open(io.BytesIO(thumb.body))
        assert decoded.size == (96, 96)
        assert decoded.getpixel((48, 48))[:3] == (200, 30, 60)
    finally:
        await client.close()


def test_upload_then_download_byte_for_byte(server):
    asyncio.run(_upload_download(server))
