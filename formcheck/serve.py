"""The app with its own upload route: `streamlit run formcheck/serve.py`.

Streamlit's file uploader receives a whole file into server memory before the script sees it
(two 265 MB uploads at once: 1.9 GB peak, see `python -m formcheck.bench appmem`). This runs the
same app (formcheck/app.py) as an `st.App` with one more route, PUT /formcheck/upload, that
writes the request body to disk as it arrives; the page's upload box (a small component in the
app) sends the file there and tells the script its content key when it is stored.
`streamlit run formcheck/app.py` still works, with Streamlit's own uploader.
"""
from __future__ import annotations

import os

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from streamlit import config
from streamlit.web.server.starlette import App

from formcheck import uploads

UPLOAD_ROUTE = "/formcheck/upload"


async def upload(request: Request) -> JSONResponse:
    if not uploads.valid_ticket(request.query_params.get("ticket")):
        return JSONResponse({"error": "This page's upload ticket has expired; reload the page."}, status_code=403)
    name = os.path.basename(request.query_params.get("name", "") or "video.mp4")
    if os.path.splitext(name)[1].lower() not in uploads.VIDEO_EXTS:
        return JSONResponse({"error": f"'{name}' is not a video file this app reads ({', '.join(uploads.VIDEO_EXTS)})."},
                            status_code=415)
    limit = int(config.get_option("server.maxUploadSize")) << 20
    r = uploads.Receiver(uploads.cache_dir(), name, limit)
    done = False
    try:
        async for chunk in request.stream():
            if chunk:
                await run_in_threadpool(r.write, chunk)
        path, key = await run_in_threadpool(r.finish)
        done = True
    except ValueError as e:
        return JSONResponse({"error": f"'{name}' is {e}."}, status_code=413)
    except (ClientDisconnect, OSError) as e:
        why = "the upload was interrupted" if isinstance(e, ClientDisconnect) else "the server could not store it"
        return JSONResponse({"error": f"'{name}' was not stored: {why}."}, status_code=500)
    finally:
        if not done:  # whatever stopped it (also a cancelled request): no partial file stays
            r.abort()
    return JSONResponse({"key": key, "name": name, "size": r.size})


os.environ["FORMCHECK_UPLOAD_ROUTE"] = UPLOAD_ROUTE  # tells the app script the route is there
app = App(os.path.join(os.path.dirname(os.path.abspath(__file__)), "app.py"),
          routes=[Route(UPLOAD_ROUTE, upload, methods=["PUT"])])
