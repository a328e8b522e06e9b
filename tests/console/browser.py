"""Headless Chromium driven by Selenium, for the console's browser tests.

The gateway under test serves on the test's event loop, so every WebDriver call (blocking HTTP
to chromedriver) runs on a thread. Under CI a missing chromium or chromedriver fails the test
(`.ci/run` installs them); elsewhere it skips, as tests/servers.py does for the servers.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("EDOCGW_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("EDOCGW_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"  # every run, untracked (var/ is gitignored)
DOCUMENTED = ROOT / "docs" / "console"  # the tracked copies, only when asked to update them
UPDATE_SCREENSHOTS = "EDOCGW_UPDATE_SCREENSHOTS"
WIDTH, HEIGHT = 1366, 768
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    f"--window-size={WIDTH},{HEIGHT}",
    "--lang=vi",
)


def require_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if shutil.which(p) is None]
    if not missing:
        return
    message = f"not installed: {', '.join(missing)}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI: browser tests never skip; .ci/run installs chromium)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="edocgw-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Browser:
    """One test's view of the browser, on the gateway's ops listener."""

    def __init__(self, driver: Any, base: str, downloads: Path) -> None:
        self.driver = driver
        self.base = base.rstrip("/")
        self.downloads = downloads

    async def _run(self, function: Any, *args: Any) -> Any:
        return await asyncio.to_thread(function, *args)

    async def open(self, path: str) -> None:
        await self._run(self.driver.get, self.base + path)

    def _find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    async def type(self, css: str, text: str) -> None:
        def type_() -> None:
            field = self._find(css)
            field.clear()
            field.send_keys(text)

        await self._run(type_)

    async def click(self, css: str) -> None:
        """Click a link or a form's button and wait for the page it leads to."""
        from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
        from selenium.webdriver.support.wait import WebDriverWait

        def click_and_wait() -> None:
            before = self._find("html")
            self._find(css).click()

            def left(_: object) -> bool:
                # Chromium sometimes reports the old page's node as "does not belong to the
                # document" instead of stale: the same fact, another exception
                try:
                    before.is_enabled()
                except StaleElementReferenceException:
                    return True
                except WebDriverException as exc:
                    if "does not belong to the document" in str(exc):
                        return True
                    raise
                return False

            WebDriverWait(self.driver, 20).until(left)

        await self._run(click_and_wait)

    async def click_download(self, css: str) -> None:
        """Click a link whose answer is saved as a file (the page stays)."""
        await self._run(lambda: self._find(css).click())

    async def text(self, css: str = "body") -> str:
        found: str = await self._run(lambda: self._find(css).text)
        return found

    async def texts(self, css: str) -> list[str]:
        from selenium.webdriver.common.by import By

        def read() -> list[str]:
            return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, css)]

        found: list[str] = await self._run(read)
        return found

    async def value(self, css: str) -> str:
        found: str = await self._run(lambda: self._find(css).get_attribute("value"))
        return found

    async def path(self) -> str:
        url: str = await self._run(lambda: self.driver.current_url)
        return url.removeprefix(self.base)

    async def script(self, source: str) -> Any:
        return await self._run(self.driver.execute_script, source)

    async def sign_in(self, name: str, password: str, *, here: bool = False) -> None:
        """Fill in the sign-in form: the one on the page (`here`) or a fresh one."""
        if not here:
            await self.open("/login")
        await self.type("#name", name)
        await self.type("#password", password)
        await self.click("form button[type=submit]")

    async def fits_the_window(self) -> bool:
        """Nothing sticks out sideways at 1366 px (long names wrap instead)."""
        width = await self.script("return document.documentElement.scrollWidth")
        return bool(width <= WIDTH)

    async def screenshot(self, name: str) -> None:
        """Into var/screenshots/; also into docs/console/ when EDOCGW_UPDATE_SCREENSHOTS=1, so
        that `make test` leaves the tracked pictures alone."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        taken = SCREENSHOTS / f"{name}.png"
        await self._run(self.driver.save_screenshot, str(taken))
        if os.environ.get(UPDATE_SCREENSHOTS) == "1":
            DOCUMENTED.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(taken, DOCUMENTED / taken.name)


@pytest.fixture
def open_browser(chromium: Any, tmp_path: Path) -> Callable[[Any], Awaitable[Browser]]:
    """The browser on a test gateway's ops listener, without cookies, downloading to tmp_path."""

    async def open_on(net: Any) -> Browser:
        downloads = tmp_path / "downloads"
        downloads.mkdir(exist_ok=True)
        await asyncio.to_thread(
            chromium.execute_cdp_cmd,
            "Browser.setDownloadBehavior",
            {"behavior": "allow", "downloadPath": str(downloads)},
        )
        await asyncio.to_thread(chromium.execute_cdp_cmd, "Network.clearBrowserCookies", {})
        return Browser(chromium, str(net.ops.make_url("/")), downloads)

    return open_on
