"""The upload size limit in front of Reflex's ``/_upload``, on a Starlette app that reads
the multipart form the way Reflex does (the real endpoint: tests/browser)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from kei_drive.upload_limit import UploadSizeLimit

LIMIT = 1024 * 1024
read: list[int] = []


async def upload(request: Request) -> Response:
    try:
        form = await request.form()
    except ClientDisconnect:  # as Reflex's upload endpoint does
        return Response()
    data = await form["files"].read()
    read.append(len(data))
    return JSONResponse({"bytes": len(data)})


async def other(request: Request) -> JSONResponse:
    return JSONResponse({"bytes": len(await request.body())})


app = UploadSizeLimit(
    Starlette(
        routes=[
            Route("/_upload", upload, methods=["POST"]),
            Route("/other", other, methods=["POST"]),
        ]
    ),
    max_bytes=LIMIT,
)


def multipart(size: int, chunk: int = 64 * 1024):
    yield (
        b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.gpx"\r\n'
        b"Content-Type: application/gpx+xml\r\n\r\n"
    )
    for start in range(0, size, chunk):
        yield b"x" * min(chunk, size - start)
    yield b"\r\n--b--\r\n"


def test_small_upload_passes_large_streamed_one_is_cut_off():
    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    with TestClient(app) as client:
        ok = client.post("/_upload", content=multipart(200_000), headers=headers)
        assert ok.status_code == 200 and ok.json() == {"bytes": 200_000}
        read.clear()
        big = client.post("/_upload", content=multipart(20 * LIMIT), headers=headers)
        assert big.status_code == 413
        assert big.json() == {"error": "the upload is larger than 1 MB"}
        assert read == []  # the handler never read the file
        declared = client.post(
            "/_upload",
            content=b"x" * (LIMIT + 1),
            headers={**headers, "Content-Length": str(LIMIT + 1)},
        )
        assert declared.status_code == 413
        # other routes are not limited by this wrapper
        assert client.post("/other", content=b"y" * (2 * LIMIT)).json() == {"bytes": 2 * LIMIT}
