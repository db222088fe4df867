"""The browser fixture itself: a real headless Chromium loads a local page, reports its console errors,
and tells a blank screenshot from a drawn one."""
from __future__ import annotations

from pathlib import Path

from browser import browser, console_errors, pixel_variance, screenshot_not_blank  # noqa: F401 (the fixture)


def test_console_errors_and_blank_screenshots(browser, tmp_path: Path):  # noqa: F811
    blank = tmp_path / "blank.html"
    blank.write_text("<!doctype html><html><body style='background:#fff'></body></html>")
    browser.get(blank.as_uri())
    assert console_errors(browser) == []
    assert not screenshot_not_blank(browser)
    assert pixel_variance(browser.get_screenshot_as_png()) == 0

    drawn = tmp_path / "drawn.html"
    drawn.write_text("<!doctype html><html><body><h1 id='t'>runx</h1>"
                     "<svg width='600' height='300'><rect width='300' height='150' fill='#246'/></svg>"
                     "<script>document.getElementById('t').textContent = 'drawn'; console.error('boom ' + 1);</script>"
                     "</body></html>")
    browser.get(drawn.as_uri())
    assert browser.find_element("id", "t").text == "drawn"
    errors = console_errors(browser)
    assert len(errors) == 1 and "boom 1" in errors[0]
    assert screenshot_not_blank(browser)
