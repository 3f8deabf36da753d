"""A minimal W3C WebDriver client (urllib) for Debian's chromium + chromium-driver: enough to load a
page, click, read text and take screenshots, without a browser download or a selenium dependency."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_available() -> bool:
    return bool(
        shutil.which("chromedriver") and (shutil.which("chromium") or shutil.which("chromium-browser"))
    )


class Chromium:
    def __init__(self, size: str = "760,620"):
        self.port = free_port()
        self.driver = subprocess.Popen(
            ["chromedriver", f"--port={self.port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                self._call("GET", "/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    self.driver.kill()
                    raise
                time.sleep(0.1)
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--window-size={size}",
        ]
        caps = {
            "browserName": "chrome",
            "pageLoadStrategy": "eager",  # a page with a live stream never finishes loading
            "goog:chromeOptions": {"binary": binary, "args": args},
        }
        self.session = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})["sessionId"]

    def _call(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)["value"]

    def _s(self, path: str) -> str:
        return f"/session/{self.session}{path}"

    def get(self, url: str) -> None:
        self._call("POST", self._s("/url"), {"url": url})

    def find(self, css: str) -> str:
        return self._call("POST", self._s("/element"), {"using": "css selector", "value": css})[ELEMENT]

    def click(self, css: str) -> None:
        self._call("POST", self._s(f"/element/{self.find(css)}/click"), {})

    def text(self, css: str) -> str:
        return self._call("GET", self._s(f"/element/{self.find(css)}/text"))

    def screenshot(self, css: str | None = None) -> bytes:
        path = f"/element/{self.find(css)}/screenshot" if css else "/screenshot"
        return base64.b64decode(self._call("GET", self._s(path)))

    def close(self) -> None:
        try:
            self._call("DELETE", self._s(""))
        finally:
            self.driver.terminate()
            self.driver.wait(10)
