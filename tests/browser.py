"""Headless Chromium for tests that open exported HTML (maps, reports) in a real browser.

Use the ``browser`` fixture (import it into ``conftest.py``) or call :func:`make_driver`.
Needs the Debian packages ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``,
``/usr/bin/chromedriver``); other paths can be given with the ``PLANNER_CHROMIUM`` and
``PLANNER_CHROMEDRIVER`` environment variables. Selenium Manager is never used, so
nothing is downloaded.

The flags matter on machines with a closed network: without the background-networking
ones Chromium keeps trying to reach Google services and its connections are refused.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = os.environ.get("PLANNER_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PLANNER_CHROMEDRIVER", "/usr/bin/chromedriver")
WINDOW_SIZE = (1400, 950)  # CSS pixels
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
TIMEOUT_S = 20.0


def make_driver(
    tmp_dir: str | os.PathLike[str], *, window_size: tuple[int, int] = WINDOW_SIZE
) -> webdriver.Chrome:
    """Start headless Chromium with a throw-away profile in ``tmp_dir``.

    The caller must ``quit()`` it. Raises ``FileNotFoundError`` naming the Debian
    packages when Chromium or its driver is missing.
    """
    for exe, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if shutil.which(exe) is None:
            msg = (
                f"{exe} not found: install the Debian package {package} (apt-get install {package})"
            )
            raise FileNotFoundError(msg)
    profile = Path(tmp_dir) / "chromium-profile"
    profile.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={window_size[0]},{window_size[1]}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console, for js_errors()
    service = Service(
        executable_path=CHROMEDRIVER, log_output=str(Path(tmp_dir) / "chromedriver.log")
    )
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(TIMEOUT_S)
    driver.set_script_timeout(TIMEOUT_S)
    return driver


@pytest.fixture
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """A headless Chromium, quit after the test."""
    driver = make_driver(tmp_path_factory.mktemp("chromium"))
    try:
        yield driver
    finally:
        driver.quit()


def open_file(
    driver: webdriver.Chrome,
    path: Path,
    *,
    ready_js: str = "return document.readyState === 'complete'",
) -> None:
    """Open a local file and wait until ``ready_js`` returns true."""
    driver.get(Path(path).resolve().as_uri())
    WebDriverWait(driver, TIMEOUT_S).until(lambda d: d.execute_script(ready_js))


def js_errors(driver: webdriver.Chrome, *, ignore: tuple[str, ...] = ()) -> list[str]:
    """Console errors logged so far, minus those containing any of ``ignore``.

    Pass the basemap tile host in ``ignore``: tiles fail on an offline machine by design.
    """
    entries = driver.get_log("browser")
    return [
        e["message"]
        for e in entries
        if e.get("level") == "SEVERE" and not any(s in e["message"] for s in ignore)
    ]


_PIXEL_STATS_JS = """
const [dataUri, done] = arguments;
const img = new Image();
img.onload = () => {
    const canvas = document.createElement('canvas');
    canvas.width = img.width; canvas.height = img.height;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const px = ctx.getImageData(0, 0, img.width, img.height).data;
    let n = 0, sum = 0, sumSq = 0;
    const colours = new Set();
    for (let i = 0; i < px.length; i += 4) {
        const grey = 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
        n += 1; sum += grey; sumSq += grey * grey;
        if (colours.size < 5000) colours.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
    }
    const mean = sum / n;
    done({width: img.width, height: img.height, mean: mean,
          variance: sumSq / n - mean * mean, colours: colours.size});
};
img.onerror = () => done(null);
img.src = dataUri;
"""


def screenshot_stats(driver: webdriver.Chrome, png_path: Path) -> dict[str, float]:
    """Save a PNG screenshot and return its size, grey mean, variance and colour count.

    The PNG is decoded by the browser itself (no imaging library needed).
    """
    png_path = Path(png_path)
    if not driver.save_screenshot(str(png_path)):
        msg = f"screenshot to {png_path} failed"
        raise RuntimeError(msg)
    data_uri = "data:image/png;base64," + base64.b64encode(png_path.read_bytes()).decode("ascii")
    stats = driver.execute_async_script(_PIXEL_STATS_JS, data_uri)
    if stats is None:
        msg = f"the browser could not decode {png_path}"
        raise RuntimeError(msg)
    return stats


def set_viewport(driver: webdriver.Chrome, width: int, height: int) -> None:
    """Make the page's viewport exactly ``width`` × ``height`` CSS pixels (a projector's).

    The window size Chromium is started with includes its (invisible) browser frame, so
    the viewport is set through the DevTools protocol instead.
    """
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1,
                            "mobile": False})


def go_offline(driver: webdriver.Chrome) -> None:
    """Cut the page's network (as on a meeting-room machine): every request fails."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                           {"offline": True, "latency": 0, "downloadThroughput": -1,
                            "uploadThroughput": -1})


_GLYPHS_JS = """
const [a, b, font] = arguments;
function draw(text) {
    const c = document.createElement('canvas');
    c.width = 200; c.height = 60;
    const ctx = c.getContext('2d');
    ctx.font = font; ctx.fillStyle = '#000'; ctx.textBaseline = 'top';
    ctx.fillText(text, 4, 4);
    const px = ctx.getImageData(0, 0, c.width, c.height).data;
    let ink = 0; const alpha = [];
    for (let i = 3; i < px.length; i += 4) { alpha.push(px[i]); if (px[i] > 0) ink++; }
    return {ink: ink, alpha: alpha, width: ctx.measureText(text).width};
}
const x = draw(a), y = draw(b);
let differ = 0;
for (let i = 0; i < x.alpha.length; i++) { if (x.alpha[i] !== y.alpha[i]) differ++; }
return {inkA: x.ink, inkB: y.ink, differ: differ, widthA: x.width, widthB: y.width};
"""


def glyph_check(driver: webdriver.Chrome, a: str, b: str, font: str) -> dict[str, float]:
    """Draw two strings of the same length in ``font`` and compare their pixels.

    When the font has no glyphs for them, both render as the same missing-glyph boxes,
    so ``differ`` (the number of pixels that differ) is 0; real glyphs differ.
    """
    return driver.execute_script(_GLYPHS_JS, a, b, font)


_INK_JS = """
const canvas = document.querySelector(arguments[0]);
if (!canvas) { return -1; }
const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
let ink = 0;
for (let i = 3; i < px.length; i += 4) { if (px[i] > 0) ink++; }
return ink;
"""


def canvas_ink(driver: webdriver.Chrome, selector: str) -> int:
    """Number of drawn (non-transparent) pixels of a canvas; -1 when there is none."""
    return int(driver.execute_script(_INK_JS, selector))
