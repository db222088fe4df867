"""A real headless Chromium for the tests that look at pages (sumx --html, TensorBoard's HParams page).

Chromium and its WebDriver are Debian's (`chromium`, `chromium-driver`: .ci/chromium.sh installs them),
driven through selenium; screenshots are decoded by Pillow (matplotlib's dependency). `browser` is a pytest fixture (one Chromium per test module); `require("browser")`
skips without them, and fails instead under CI=true where the env promises "browser".

    from browser import browser, console_errors, screenshot_not_blank  # noqa: F401 (the fixture)

    def test_page(browser, tmp_path):
        browser.get(Path(page).as_uri())
        assert console_errors(browser) == []
        assert screenshot_not_blank(browser)
"""
from __future__ import annotations

import shutil
import tempfile
from typing import Iterator, List

import pytest
from runx_testing import require

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")

__all__ = ["browser", "chromium_binary", "console_errors", "pixel_variance", "screenshot_not_blank"]


def chromium_binary() -> str | None:
    """The Chromium executable on PATH, or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator["object"]:
    """A headless Chromium WebDriver (1280x900 window, browser console log captured), quit after the module."""
    require("browser")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium_binary() or ""
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--no-first-run", "--disable-extensions", "--disable-background-networking"):
        options.add_argument(arg)
    profile = tempfile.mkdtemp(prefix="runx-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver: "object") -> List[str]:
    """The browser console's SEVERE entries since the last call (the log is drained by reading it)."""
    return [entry["message"] for entry in driver.get_log("browser")  # type: ignore[attr-defined]
            if entry.get("level") == "SEVERE"]


def pixel_variance(png: bytes) -> float:
    """The variance of the grey level over a PNG's pixels (0 for a blank, one-colour image); Pillow decodes it."""
    import io

    from PIL import Image, ImageStat

    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG", f"not a PNG: {image.format}"
        return float(ImageStat.Stat(image.convert("L")).var[0])


def screenshot_not_blank(driver: "object", minimum: float = 25.0) -> bool:
    """Whether a screenshot of the page shows something: its grey-level variance is at least `minimum`."""
    png = driver.get_screenshot_as_png()  # type: ignore[attr-defined]
    return pixel_variance(png) >= minimum

