"""The browser page: MJPEG over HTTP (stdlib `http.server` in a thread), figures and the same controls.

    GET  /              the page: the live picture, the figures, a button per command (and the keys)
    GET  /stream.mjpg   multipart/x-mixed-replace JPEG stream, newest frame only (a slow client skips)
    GET  /frame.jpg     the newest frame
    GET  /stats.json    fps, latency p50/p95, dropped, style, mode, ...
    POST /control/CMD   one of `controls.COMMANDS`; answers the new state as JSON

It listens on 127.0.0.1 unless told otherwise; bound to any other address it requires a token (one is
made when none is given), passed as `?token=` or an `X-Token` header; the printed URL carries it.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

from portrait_style.engine.frame import FramePacket
from portrait_style.errors import OutputError
from portrait_style.live.controls import COMMANDS, KEYS, LiveControls

_BOUNDARY = "portrait-style-frame"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebSink:
    overlay = True
    keys = False

    def __init__(
        self,
        controls: LiveControls,
        host: str = "127.0.0.1",
        port: int = 8080,
        token: str | None = None,
        stats=None,
        jpeg_quality: int = 80,
    ):
        self.controls, self.stats, self.quality = controls, stats, jpeg_quality
        self.token = token or (None if is_loopback(host) else secrets.token_urlsafe(16))
        self._jpeg: bytes | None = None
        self._seq = 0
        self._meta: dict = {}
        self._new = threading.Condition()
        self._closing = False
        try:
            self.server = ThreadingHTTPServer((host, port), _handler(self))
        except OSError as exc:
            raise OutputError(f"cannot serve the page on {host}:{port}: {exc.strerror or exc}") from None
        self.server.daemon_threads = True
        self.host, self.port = host, self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, args=(0.1,), name="live-web", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/" + (f"?token={self.token}" if self.token else "")

    def show(self, view: np.ndarray, packet: FramePacket) -> None:
        ok, data = cv2.imencode(
            ".jpg", cv2.cvtColor(view, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, self.quality]
        )
        with self._new:
            self._jpeg, self._seq = data.tobytes(), self._seq + 1
            self._meta = {k: packet.meta.get(k) for k in ("style", "mode", "backend")}
            self._new.notify_all()

    def next_frame(self, after: int, timeout: float = 0.5) -> tuple[int, bytes | None]:
        """The newest frame newer than `after` (waits up to `timeout`), as (sequence, JPEG)."""
        with self._new:
            self._new.wait_for(lambda: self._seq > after or self._closing, timeout)
            return self._seq, self._jpeg

    def state(self) -> dict:
        state = {**self.controls.state(), **self._meta}
        if self.stats is not None:
            p50, p95 = self.stats.latency_ms()
            state.update(
                fps=round(self.stats.fps, 1), latency_p50_ms=round(p50, 1), latency_p95_ms=round(p95, 1)
            )
            state.update(dropped=self.stats.dropped, frames=self.stats.frames)
        return state

    def poll(self) -> None:
        pass

    def close(self) -> None:
        with self._new:
            self._closing = True
            self._new.notify_all()
        self.server.shutdown()
        self.server.server_close()


def _handler(sink: WebSink):
    class Handler(BaseHTTPRequestHandler):
        server_version = "portrait-style"

        def log_message(self, format, *args):  # no access log on the console
            pass

        def _authorised(self) -> bool:
            if sink.token is None:
                return True
            given = parse_qs(urlsplit(self.path).query).get("token", [""])[0] or self.headers.get(
                "X-Token", ""
            )
            if hmac.compare_digest(given.encode(), sink.token.encode()):
                return True
            self._send(HTTPStatus.FORBIDDEN, b"a token is required: use the URL portrait-style printed\n")
            return False

        def _send(self, status, body: bytes, ctype: str = "text/plain; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if not self._authorised():
                return
            path = urlsplit(self.path).path
            if path == "/":
                self._send(HTTPStatus.OK, PAGE.encode(), "text/html; charset=utf-8")
            elif path == "/stats.json":
                self._send(HTTPStatus.OK, json.dumps(sink.state()).encode(), "application/json")
            elif path == "/frame.jpg":
                _, jpeg = sink.next_frame(0, timeout=2.0)
                if jpeg is None:
                    self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"no frame yet\n")
                else:
                    self._send(HTTPStatus.OK, jpeg, "image/jpeg")
            elif path == "/stream.mjpg":
                self._stream()
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n")

        def do_POST(self):
            if not self._authorised():
                return
            path = urlsplit(self.path).path
            command = path.removeprefix("/control/")
            if not path.startswith("/control/") or command not in COMMANDS:
                self._send(HTTPStatus.NOT_FOUND, f"commands: {', '.join(COMMANDS)}\n".encode())
                return
            sink.controls.handle(command)
            self._send(HTTPStatus.OK, json.dumps(sink.controls.state()).encode(), "application/json")

        def _stream(self):
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={_BOUNDARY}")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            seq = 0
            try:
                while not sink._closing:
                    new_seq, jpeg = sink.next_frame(seq)
                    if jpeg is None or new_seq == seq:
                        continue
                    seq = new_seq
                    head = f"--{_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
                    self.wfile.write(head.encode() + jpeg + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the viewer closed the page

    return Handler


_KEYMAP = json.dumps({k: v for k, v in KEYS.items() if len(k) == 1 or k in ("Left", "Right", "Escape")})
PAGE = (
    """<!doctype html>
<html><head><meta charset="utf-8"><title>portrait-style live</title>
<style>
 body { background: #111; color: #eee; font: 14px system-ui, sans-serif; margin: 16px; }
 img { display: block; width: 640px; max-width: 100%; height: auto; background: #000; }
 button { margin: 6px 4px 0 0; padding: 6px 10px; background: #333; color: #eee; border: 1px solid #555; }
 #stats { margin-top: 8px; font-family: monospace; }
</style></head>
<body>
<img id="view" alt="live picture">
<div id="stats">waiting for frames...</div>
<div id="buttons"></div>
<script>
const token = new URLSearchParams(location.search).get("token");
const q = token ? "?token=" + encodeURIComponent(token) : "";
const headers = token ? {"X-Token": token} : {};
// after "load": an endless MJPEG stream would otherwise keep the page loading forever
window.addEventListener("load", () => { document.getElementById("view").src = "stream.mjpg" + q; });
const commands = """
    + json.dumps(list(COMMANDS))
    + """;
const keys = """
    + _KEYMAP
    + """;
function send(cmd) { return fetch("control/" + cmd, {method: "POST", headers}).then(refresh); }
for (const cmd of commands) {
  const b = document.createElement("button");
  b.id = "cmd-" + cmd; b.textContent = cmd; b.onclick = () => send(cmd);
  document.getElementById("buttons").appendChild(b);
}
document.addEventListener("keydown", e => {
  const k = e.key.replace("Arrow", "");
  if (keys[k]) send(keys[k]);
});
function refresh() {
  return fetch("stats.json" + q, {headers}).then(r => r.json()).then(s => {
    document.getElementById("stats").textContent =
      `${s.style} | ${s.mode} mode | ${s.backend || ""} | ${s.fps} fps | latency p50 ${s.latency_p50_ms} ms` +
      ` p95 ${s.latency_p95_ms} ms | dropped ${s.dropped}` + (s.split ? " | before/after" : "") +
      (s.mirror ? " | mirrored" : "");
  }).catch(() => {});
}
setInterval(refresh, 500);
</script>
</body></html>
"""
)
