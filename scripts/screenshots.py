"""Screenshots of the journey map page on the demo data, for the docs: desktop, phone (390 px) and the report.

    python scripts/screenshots.py          # docs/screenshots/{desktop,labels,correction,phone,report}.png
    python scripts/screenshots.py --lang fr --report-lang en --out /tmp/shots

Loads the demo workspace into a temporary SQLite database, serves the app on a free port and drives Debian's
Chromium (/usr/bin/chromium) with Playwright. Each image is clipped to the part worth showing, to stay small.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402
from playwright.sync_api import FloatRect, Page, ViewportSize, sync_playwright  # noqa: E402

from app.core.config import Settings  # noqa: E402
from app.demo import load_demo  # noqa: E402
from app.main import create_app  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
DESKTOP: ViewportSize = {"width": 1360, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
log = logging.getLogger("screenshots")


def serve(settings: Settings) -> tuple[uvicorn.Server, str, str]:
    """Load the demo data and serve the app in a thread; return the server, its base URL and the demo key."""
    pipeline, key = load_demo(settings)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(settings, pipeline=pipeline), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}", key


def top(viewport: ViewportSize, height: int) -> FloatRect:
    """The first `height` pixels of a full-page screenshot."""
    return {"x": 0, "y": 0, "width": viewport["width"], "height": height}


def open_map(page: Page, base: str, key: str) -> None:
    page.goto(f"{base}/#key={key}")
    page.wait_for_selector("#heatmap .heat-cell")
    page.wait_for_selector("#alerts[aria-busy=false]")
    page.wait_for_selector("#topics li.topic, #topics .notice-empty", timeout=120_000)


def shoot(base: str, key: str, out: Path, lang: str, report_lang: str) -> None:
    locale = "fr-FR" if lang == "fr" else "en-US"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        # Drawn at 0.8 device pixels per CSS pixel: the whole map stays legible in a PNG under 300 KB.
        desktop = browser.new_context(locale=locale, viewport=DESKTOP, device_scale_factor=0.8)
        page = desktop.new_page()
        open_map(page, base, key)
        page.screenshot(path=str(out / "desktop.png"), full_page=True, clip=top(DESKTOP, 1900))
        log.info("desktop.png")
        page.click("#toggle-labels")  # the labels & model panel, then a correction's menu in the drill-down
        page.wait_for_selector("#labels-touchpoints li.label-row")
        page.wait_for_selector("#model .model-version")
        page.locator("#learning").screenshot(path=str(out / "labels.png"))
        log.info("labels.png")
        page.click("#toggle-labels")
        page.click("#curve .stage-col[data-stage=support]")
        page.click("#drill-list li.feedback .mention[data-rank]")
        page.wait_for_selector("#correction-dialog[open]")
        page.screenshot(path=str(out / "correction.png"))
        log.info("correction.png")
        page.keyboard.press("Escape")
        page.goto(f"{base}/report?lang={report_lang}")  # the same tab: the key is in its sessionStorage
        page.wait_for_selector("body[data-ready]")
        page.locator("#sheet").screenshot(path=str(out / "report.png"))
        log.info("report.png")
        phone = browser.new_context(locale=locale, viewport=PHONE, is_mobile=True, has_touch=True)
        page = phone.new_page()
        open_map(page, base, key)
        page.screenshot(path=str(out / "phone.png"), full_page=True, clip=top(PHONE, 2000))
        log.info("phone.png")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--lang", choices=["en", "fr"], default="en", help="the map's language")
    parser.add_argument(
        "--report-lang", choices=["en", "fr"], default="fr", help="the report's (French stage names are the longest)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{folder}/demo.db", data_dir=Path(folder), idle_poll_seconds=0.2)
        server, base, key = serve(settings)
        try:
            shoot(base, key, args.out, args.lang, args.report_lang)
        finally:
            server.should_exit = True
    for name in ("desktop", "labels", "correction", "phone", "report"):
        log.info("%s: %d KB", args.out / f"{name}.png", (args.out / f"{name}.png").stat().st_size // 1024)


if __name__ == "__main__":
    main()
