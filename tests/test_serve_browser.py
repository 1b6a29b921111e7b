"""The web app in a real browser: headless Chromium (Debian chromium + chromium-driver) driven by Selenium against
the app on a real uvicorn server on 127.0.0.1: type a query, read the results, filter by day, open a report."""
from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from homeclip.apps.server import BackgroundServer
from homeclip.apps.web import AppContext, create_app
from test_search import PLANTED
from test_serve import GARAGE_CAPTION, context, run_dir  # noqa: F401 - shared fixtures

CHROMIUM = next((p for p in (shutil.which("chromium"), "/usr/bin/chromium") if p and Path(p).exists()), None)
DRIVER = next((p for p in (shutil.which("chromedriver"), "/usr/bin/chromedriver") if p and Path(p).exists()), None)
try:
    import selenium  # noqa: F401
except ImportError:
    selenium = None

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None or selenium is None,
    reason="needs Chromium, chromedriver and selenium (apt-get install chromium chromium-driver; "
           "pip install -e '.[test]')")
# Without the background-networking flags Chromium's own connections are refused by a closed network.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1280,1000")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def server(context: AppContext):  # noqa: F811 - the fixture of test_serve
    with BackgroundServer(create_app(context)) as running:
        yield running


def _wait_for(driver, css: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 30).until(ec.presence_of_all_elements_located((By.CSS_SELECTOR, css)))


def test_type_a_query_and_read_the_results(browser, server, context):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    assert server.url.startswith("http://127.0.0.1:")
    browser.get(server.url)
    box = browser.find_element(By.ID, "q")
    box.send_keys("someone working in the garage", Keys.ENTER)
    hits = _wait_for(browser, "li.hit")
    assert len(hits) == 10
    first = hits[0]
    assert first.get_attribute("data-index") == str(PLANTED)
    assert first.find_element(By.CSS_SELECTOR, ".rooms").text == "garage"
    assert first.find_element(By.CSS_SELECTOR, ".caption").text == GARAGE_CAPTION
    marks = browser.find_elements(By.CSS_SELECTOR, "#timeline .mark")
    assert sorted(int(m.text) for m in marks) == list(range(1, 11))   # every hit is on the timeline

    # Narrow to one day in the form: every result overlaps that day, and the query text is kept.
    day = context.engine.summaries[PLANTED]["start"][:10]
    Select(browser.find_element(By.ID, "day")).select_by_value(day)
    browser.find_element(By.ID, "go").click()
    _wait_for(browser, "#summary")
    assert browser.find_element(By.ID, "q").get_attribute("value") == "someone working in the garage"
    shown = [int(h.get_attribute("data-index")) for h in browser.find_elements(By.CSS_SELECTOR, "li.hit")]
    api = httpx.get(server.url + "api/search", params={"q": "someone working in the garage", "day": day},
                    trust_env=False).json()
    assert shown == [h["index"] for h in api["hits"]] and shown[0] == PLANTED
    assert api["n_matching"] < api["n_windows"]
    assert "matching the filters" in browser.find_element(By.ID, "summary").text


def test_reports_page_opens_the_evaluation(browser, server):
    from selenium.webdriver.common.by import By

    browser.get(server.url + "reports")
    browser.find_element(By.LINK_TEXT, "fake_eval").click()
    frame = _wait_for(browser, "iframe.report")[0]
    browser.switch_to.frame(frame)
    assert "homeclip evaluation" in browser.find_element(By.TAG_NAME, "body").text.lower()
    browser.switch_to.default_content()
