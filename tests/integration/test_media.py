"""The media repository: upload, download, thumbnails, config, async upload, and safe serving.

Images are made in the test with Debian's python3-pil (Pillow), and thumbnails are decoded with
it to check their real size. Tests that tamper with the data folder or need other limits start
their own server."""
import hashlib
import io
import urllib.parse

import pytest
from PIL import Image

from ruche_test import Response, call, new_user, query

MEDIA_CSP = ("sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; "
             "style-src 'unsafe-inline'; media-src 'self'; object-src 'self';")
BINARY = bytes(range(256)) * 4 + b"\x00\x00tail\x00"


def image_bytes(fmt: str, size=(640, 400), mode="RGB") -> bytes:
    img = Image.new(mode, size)
    # A gradient, so every encoder has real content to compress and crop.
    px = img.load()
    for x in range(0, size[0], 4):
        for y in range(0, size[1], 4):
            colour = (x % 256, y % 256, (x + y) % 256)
            if mode == "RGBA":
                colour += (200,)
            for dx in range(4):
                for dy in range(4):
                    if x + dx < size[0] and y + dy < size[1]:
                        px[x + dx, y + dy] = colour
    out = io.BytesIO()
    img.save(out, format=fmt)
    return out.getvalue()


def upload(server, token, data: bytes, content_type="application/octet-stream", filename=None,
           version="v3", expect=200):
    path = f"/_matrix/media/{version}/upload"
    if filename is not None:
        path = query(path, filename=filename)
    if content_type is None:  # call() would add a JSON Content-Type
        conn = server.connection()
        try:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            conn.request("POST", path, body=data, headers=headers)
            r = conn.getresponse()
            resp = Response(r.status, r.reason, r.headers, r.read())
        finally:
            conn.close()
    else:
        resp = call(server, "POST", path, raw_body=data, token=token,
                    headers={"Content-Type": content_type})
    assert resp.status == expect, resp
    return resp


def mxc(server, token, data: bytes, **kw) -> tuple[str, str]:
    """Uploads and returns (server_name, media_id)."""
    uri = upload(server, token, data, **kw).json["content_uri"]
    assert uri.startswith("mxc://")
    server_name, media_id = uri[len("mxc://"):].split("/")
    return server_name, media_id


def download(server, server_name, media_id, *, version="v3", token=None, filename=None,
             headers=None, method="GET"):
    if version == "v1":
        base = "/_matrix/client/v1/media"
    else:
        base = f"/_matrix/media/{version}"
    path = f"{base}/download/{server_name}/{media_id}"
    if filename is not None:
        path += "/" + urllib.parse.quote(filename, safe="")
    return call(server, method, path, token=token, headers=headers)


def thumbnail(server, server_name, media_id, width, height, method="scale", *, version="v3",
              token=None):
    if version == "v1":
        base = "/_matrix/client/v1/media"
    else:
        base = f"/_matrix/media/{version}"
    path = query(f"{base}/thumbnail/{server_name}/{media_id}", width=width, height=height,
                 method=method)
    return call(server, "GET", path, token=token)


# -- upload and download ---------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v3", "r0"])
def test_upload_and_download_are_byte_for_byte(server, version):
    _, token = new_user(server)
    name, media_id = mxc(server, token, BINARY, content_type="application/x-thing",
                         filename="data.bin", version=version)
    assert name == server.server_name
    assert 20 <= len(media_id) <= 255
    for dl_version, tok in (("v3", None), ("r0", None), ("v1", token)):
        resp = download(server, name, media_id, version=dl_version, token=tok)
        assert resp.status == 200, resp
        assert resp.body == BINARY
        assert resp.header("Content-Type") == "application/x-thing"
        assert resp.header("Content-Disposition") == 'attachment; filename="data.bin"'


def test_download_headers_keep_the_browser_safe(server):
    _, token = new_user(server)
    png = image_bytes("PNG", (20, 10))
    name, media_id = mxc(server, token, png, content_type="image/png", filename="cat.png")
    resp = download(server, name, media_id)
    assert resp.status == 200, resp
    assert resp.header("Content-Type") == "image/png"
    assert resp.header("Content-Disposition") == 'inline; filename="cat.png"'
    assert resp.header("X-Content-Type-Options") == "nosniff"
    assert resp.header("Content-Security-Policy") == MEDIA_CSP
    assert resp.header("Cross-Origin-Resource-Policy") == "cross-origin"
    assert "immutable" in resp.header("Cache-Control")
    assert "public" in resp.header("Cache-Control")
    assert resp.header("ETag") == '"' + hashlib.sha256(png).hexdigest() + '"'
    assert resp.header("Access-Control-Allow-Origin") == "*"

    authed = download(server, name, media_id, version="v1", token=token)
    assert "private" in authed.header("Cache-Control")

    again = download(server, name, media_id, headers={"If-None-Match": resp.header("ETag")})
    assert again.status == 304
    assert again.body == b""

    head = download(server, name, media_id, method="HEAD")
    assert head.status == 200
    assert head.body == b""
    assert head.header("Content-Length") == str(len(png))


def test_active_content_is_never_inline(server):
    _, token = new_user(server)
    html = b"<html><script>alert(document.cookie)</script></html>"
    for ctype in ("text/html", "image/svg+xml", "application/xhtml+xml"):
        name, media_id = mxc(server, token, html, content_type=ctype, filename="x")
        resp = download(server, name, media_id)
        assert resp.status == 200
        assert resp.header("Content-Type") == ctype
        assert resp.header("Content-Disposition").startswith("attachment"), ctype
        assert resp.header("Content-Security-Policy") == MEDIA_CSP


def test_unknown_or_bogus_content_type_is_served_as_octet_stream(server):
    _, token = new_user(server)
    for ctype in (None, "not a type", "text/html\tx"):
        name, media_id = mxc(server, token, b"hello", content_type=ctype)
        resp = download(server, name, media_id)
        assert resp.status == 200
        assert resp.header("Content-Type") == "application/octet-stream", ctype
        assert resp.header("Content-Disposition") == "attachment"


def test_file_name_in_url_and_utf8_names(server):
    _, token = new_user(server)
    name, media_id = mxc(server, token, b"text", content_type="text/plain",
                         filename="résumé.txt")
    resp = download(server, name, media_id)
    assert resp.header("Content-Disposition") == \
        "inline; filename=\"r_sum_.txt\"; filename*=utf-8''r%C3%A9sum%C3%A9.txt"
    resp = download(server, name, media_id, filename="other name.txt")
    assert resp.status == 200
    assert resp.body == b"text"
    assert resp.header("Content-Disposition") == 'inline; filename="other name.txt"'


def test_bad_file_name_is_refused(server):
    _, token = new_user(server)
    resp = upload(server, token, b"x", filename="a\nb", expect=400)
    assert resp.errcode == "M_INVALID_PARAM"


def test_identical_uploads_share_one_blob(start_server):
    srv = start_server()
    _, token = new_user(srv)
    data = b"the same bytes twice " * 100
    _, first = mxc(srv, token, data)
    _, second = mxc(srv, token, data)
    assert first != second
    digest = hashlib.sha256(data).hexdigest()
    blob = srv.data_dir / "media" / digest[:2] / digest[2:4] / digest
    assert blob.read_bytes() == data
    blobs = [p for p in (srv.data_dir / "media").rglob("*") if p.is_file()]
    assert blobs == [blob]
    assert download(srv, srv.server_name, second).body == data


def test_empty_file(server):
    _, token = new_user(server)
    name, media_id = mxc(server, token, b"", content_type="text/plain")
    resp = download(server, name, media_id)
    assert resp.status == 200
    assert resp.body == b""


# -- authentication, limits, bad input -------------------------------------------------------


def test_upload_needs_a_token(server):
    resp = upload(server, None, b"x", expect=401)
    assert resp.errcode == "M_MISSING_TOKEN"
    resp = upload(server, "not-a-token", b"x", expect=401)
    assert resp.errcode == "M_UNKNOWN_TOKEN"
    resp = call(server, "POST", "/_matrix/media/v1/create")
    assert resp.status == 401


def test_authenticated_endpoints_need_a_token(server):
    _, token = new_user(server)
    name, media_id = mxc(server, token, image_bytes("PNG", (40, 40)), content_type="image/png")
    for path in (f"/_matrix/client/v1/media/download/{name}/{media_id}",
                 f"/_matrix/client/v1/media/download/{name}/{media_id}/f.png",
                 f"/_matrix/client/v1/media/thumbnail/{name}/{media_id}?width=32&height=32",
                 "/_matrix/client/v1/media/config"):
        resp = call(server, "GET", path)
        assert resp.status == 401, path
        assert resp.errcode == "M_MISSING_TOKEN"
        assert resp.body.find(b"PNG") == -1
        resp = call(server, "GET", path, token="bogus")
        assert resp.status == 401, path
        resp = call(server, "GET", path, token=token)
        assert resp.status == 200, (path, resp)
    # The legacy endpoints stay open for clients that predate v1.11.
    assert download(server, name, media_id).status == 200


def test_config_reports_the_upload_limit(server):
    _, token = new_user(server)
    for path, tok in (("/_matrix/media/v3/config", None), ("/_matrix/media/r0/config", None),
                      ("/_matrix/client/v1/media/config", token)):
        resp = call(server, "GET", path, token=tok)
        assert resp.status == 200
        assert resp.json == {"m.upload.size": 50 * 1024 * 1024}


def test_upload_over_the_limit_is_413(start_server):
    srv = start_server(settings={"media.max_upload_bytes": 1024})
    _, token = new_user(srv)
    assert call(srv, "GET", "/_matrix/media/v3/config").json == {"m.upload.size": 1024}
    upload(srv, token, b"x" * 1024)
    resp = upload(srv, token, b"x" * 1025, expect=413)
    assert resp.errcode == "M_TOO_LARGE"
    # Other routes keep their own (JSON) limit.
    assert upload(srv, token, b"y" * 10).status == 200


def test_uploads_are_rate_limited_per_user(start_server):
    srv = start_server(settings={"media.uploads_per_user_burst": 2,
                                 "media.uploads_per_user_per_second": 0.001})
    _, token = new_user(srv)
    upload(srv, token, b"1")
    upload(srv, token, b"2")
    resp = upload(srv, token, b"3", expect=429)
    assert resp.errcode == "M_LIMIT_EXCEEDED"
    assert resp.json["retry_after_ms"] > 0
    # Another user has a bucket of their own.
    _, other = new_user(srv)
    upload(srv, other, b"4")


def test_daily_upload_quota_per_user(start_server):
    """media.upload_bytes_per_user_per_day: 429 with the time until the window frees enough,
    413 for a file larger than the quota itself; both upload routes; per user."""
    srv = start_server(settings={"media.upload_bytes_per_user_per_day": 1000})
    _, token = new_user(srv)
    upload(srv, token, b"a" * 600)
    resp = upload(srv, token, b"b" * 500, expect=429)
    assert resp.errcode == "M_LIMIT_EXCEEDED"
    # The 600 bytes leave the window 24 hours after their upload.
    assert 23 * 3600_000 < resp.json["retry_after_ms"] <= 24 * 3600_000
    assert resp.header("Retry-After") is not None
    upload(srv, token, b"c" * 400)  # exactly at the quota: allowed
    assert upload(srv, token, b"d", expect=429).errcode == "M_LIMIT_EXCEEDED"
    assert upload(srv, token, b"e" * 1001, expect=413).errcode == "M_TOO_LARGE"
    # The asynchronous route (create, then upload) counts against the same quota.
    created = call(srv, "POST", "/_matrix/media/v1/create", token=token)
    assert created.status == 200, created
    media_id = created.json["content_uri"].rsplit("/", 1)[1]
    put = call(srv, "PUT", f"/_matrix/media/v3/upload/{srv.server_name}/{media_id}",
               raw_body=b"f" * 10, token=token,
               headers={"Content-Type": "application/octet-stream"})
    assert put.status == 429 and put.errcode == "M_LIMIT_EXCEEDED", put
    # Another user has a quota of their own.
    _, other = new_user(srv)
    upload(srv, other, b"g" * 1000)


def test_unknown_and_remote_media_are_404(server):
    _, token = new_user(server)
    resp = download(server, server.server_name, "NoSuchMediaId123")
    assert resp.status == 404
    assert resp.errcode == "M_NOT_FOUND"
    _, media_id = mxc(server, token, b"local bytes")
    for version, tok in (("v3", None), ("v1", token)):
        resp = download(server, "matrix.org", media_id, version=version, token=tok)
        assert resp.status == 404
        assert resp.errcode == "M_NOT_FOUND"
    resp = thumbnail(server, "matrix.org", media_id, 32, 32)
    assert resp.status == 404


@pytest.mark.parametrize("media_id", [
    "..%2F..%2Fruche.db", "..%2Fruche.db", "%2Fetc%2Fpasswd", "..", "a.b", "%00abc",
    "ab%5C..%5Cx", "x" * 256])
def test_traversal_and_malformed_ids_are_refused(server, media_id):
    resp = call(server, "GET", f"/_matrix/media/v3/download/{server.server_name}/{media_id}")
    assert resp.status in (400, 404), resp
    assert b"SQLite" not in resp.body and b"root:" not in resp.body
    resp = call(server, "GET", f"/_matrix/media/v3/thumbnail/{server.server_name}/{media_id}"
                               "?width=32&height=32")
    assert resp.status in (400, 404), resp


def test_raw_dot_segments_never_reach_the_data_folder(server):
    for path in ("/_matrix/media/v3/download/localhost/../../ruche.db",
                 "/_matrix/media/v3/download/../../../etc/passwd",
                 "/_matrix/media/v3/download/localhost/%2E%2E/ruche.db"):
        resp = call(server, "GET", path)
        assert resp.status != 200 or b"SQLite" not in resp.body, path
        assert b"SQLite format" not in resp.body


# -- thumbnails ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt,mime", [("JPEG", "image/jpeg"), ("PNG", "image/png"),
                                      ("WEBP", "image/webp")])
def test_thumbnails_scale_and_crop(server, fmt, mime):
    _, token = new_user(server)
    name, media_id = mxc(server, token, image_bytes(fmt, (640, 400)), content_type=mime)

    resp = thumbnail(server, name, media_id, 320, 240, "scale")
    assert resp.status == 200, resp
    assert resp.header("Content-Type") == mime
    img = Image.open(io.BytesIO(resp.body))
    img.load()
    assert img.format == fmt
    assert img.size == (320, 200)  # fits 320×240, ratio kept
    assert resp.header("Content-Security-Policy") == MEDIA_CSP
    assert resp.header("ETag") == '"' + hashlib.sha256(resp.body).hexdigest() + '"'

    resp = thumbnail(server, name, media_id, 96, 96, "crop", version="v1", token=token)
    assert resp.status == 200, resp
    img = Image.open(io.BytesIO(resp.body))
    img.load()
    assert img.size == (96, 96)

    # Requests are served from the standard sizes: 50×50 crop is the 96×96 one.
    resp = thumbnail(server, name, media_id, 50, 50, "crop", version="r0")
    assert resp.status == 200
    assert Image.open(io.BytesIO(resp.body)).size == (96, 96)


def test_thumbnail_never_enlarges(server):
    _, token = new_user(server)
    name, media_id = mxc(server, token, image_bytes("PNG", (40, 30)), content_type="image/png")
    resp = thumbnail(server, name, media_id, 800, 600)
    assert resp.status == 200
    assert Image.open(io.BytesIO(resp.body)).size == (40, 30)


def test_thumbnail_ignores_the_claimed_content_type(server):
    _, token = new_user(server)
    name, media_id = mxc(server, token, image_bytes("JPEG", (200, 100)),
                         content_type="application/octet-stream")
    resp = thumbnail(server, name, media_id, 96, 96, "crop")
    assert resp.status == 200
    assert resp.header("Content-Type") == "image/jpeg"


def test_thumbnail_bad_parameters(server):
    _, token = new_user(server)
    name, media_id = mxc(server, token, image_bytes("PNG", (40, 30)), content_type="image/png")
    base = f"/_matrix/media/v3/thumbnail/{name}/{media_id}"
    for params, code in (("width=32", "M_MISSING_PARAM"), ("height=32", "M_MISSING_PARAM"),
                         ("width=-1&height=32", "M_INVALID_PARAM"),
                         ("width=abc&height=32", "M_INVALID_PARAM"),
                         ("width=32&height=32&method=stretch", "M_INVALID_PARAM")):
        resp = call(server, "GET", f"{base}?{params}")
        assert resp.status == 400, params
        assert resp.errcode == code, params


def test_thumbnail_of_non_images(server):
    _, token = new_user(server)
    name, media_id = mxc(server, token, b"%PDF-1.4 not an image", content_type="application/pdf")
    resp = thumbnail(server, name, media_id, 96, 96)
    assert resp.status == 400
    assert resp.errcode == "M_UNKNOWN"
    # A small image in a format we do not resize is its own thumbnail.
    gif = image_bytes("GIF", (20, 20))
    name, media_id = mxc(server, token, gif, content_type="image/gif")
    resp = thumbnail(server, name, media_id, 96, 96)
    assert resp.status == 200
    assert resp.header("Content-Type") == "image/gif"
    assert resp.body == gif
    # Bytes that claim to be a PNG but do not decode.
    name, media_id = mxc(server, token, b"\x89PNG\r\n\x1a\n" + b"\x00" * 50,
                         content_type="image/png")
    resp = thumbnail(server, name, media_id, 96, 96)
    assert resp.status == 400


def test_thumbnail_of_a_huge_image_is_refused(start_server):
    srv = start_server(settings={"media.max_image_pixels": 10_000})
    _, token = new_user(srv)
    name, media_id = mxc(srv, token, image_bytes("PNG", (200, 100)), content_type="image/png")
    resp = thumbnail(srv, name, media_id, 96, 96)
    assert resp.status == 413
    assert resp.errcode == "M_TOO_LARGE"
    assert "200x100" in resp.json["error"]
    # The original is still there to download.
    assert download(srv, name, media_id).status == 200


def test_second_thumbnail_request_does_no_image_work(start_server):
    srv = start_server()
    _, token = new_user(srv)
    png = image_bytes("PNG", (300, 300))
    name, media_id = mxc(srv, token, png, content_type="image/png")
    first = thumbnail(srv, name, media_id, 96, 96, "crop")
    assert first.status == 200
    # Remove the original's bytes: only a cached thumbnail can still be served.
    digest = hashlib.sha256(png).hexdigest()
    (srv.data_dir / "media" / digest[:2] / digest[2:4] / digest).unlink()
    second = thumbnail(srv, name, media_id, 96, 96, "crop")
    assert second.status == 200, second
    assert second.body == first.body
    # A size never asked for needs the original, which is gone.
    other = thumbnail(srv, name, media_id, 320, 240, "scale")
    assert other.status == 500


# -- async upload (v1.7) ---------------------------------------------------------------------


def test_async_upload(server):
    _, token = new_user(server)
    _, other = new_user(server)
    resp = call(server, "POST", "/_matrix/media/v1/create", token=token)
    assert resp.status == 200, resp
    uri = resp.json["content_uri"]
    assert resp.json["unused_expires_at"] > 0
    name, media_id = uri[len("mxc://"):].split("/")

    early = download(server, name, media_id)
    assert early.status == 504
    assert early.errcode == "M_NOT_YET_UPLOADED"

    put_path = query(f"/_matrix/media/v3/upload/{name}/{media_id}", filename="late.bin")
    resp = call(server, "PUT", put_path, raw_body=BINARY, token=other,
                headers={"Content-Type": "application/x-late"})
    assert resp.status == 403
    assert resp.errcode == "M_FORBIDDEN"
    resp = call(server, "PUT", put_path, raw_body=BINARY, token=token,
                headers={"Content-Type": "application/x-late"})
    assert resp.status == 200, resp
    resp = call(server, "PUT", put_path, raw_body=b"again", token=token)
    assert resp.status == 409
    assert resp.errcode == "M_CANNOT_OVERWRITE_MEDIA"

    resp = download(server, name, media_id)
    assert resp.status == 200
    assert resp.body == BINARY
    assert resp.header("Content-Type") == "application/x-late"
    assert resp.header("Content-Disposition") == 'attachment; filename="late.bin"'

    resp = call(server, "PUT", f"/_matrix/media/v3/upload/{name}/NeverCreated1", raw_body=b"x",
                token=token)
    assert resp.status == 404
