"""``xent-jax explore`` as a person meets it: a real server process, a real headless Chromium.

The page must load without JavaScript errors; a dragged slider and a click on the atlas must put
on the page the numbers ``train()`` gives for the start they show; a shared URL must bring its
settings back; Ctrl-C must exit with 130 and one line; a taken port must be refused cleanly.
Chromium and its driver are Debian's (``.ci/run`` installs them); Selenium drives them.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from xent_jax import train

pytest.importorskip("panel")
pytestmark = pytest.mark.slow

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
START_SECONDS = 300  # the server compiles the default view before it offers the page
PAGE_SECONDS = 120
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1700,1000",
)
# Every element matching a CSS selector, through every shadow root under ``start`` (Bokeh and
# Panel draw each component inside its own shadow DOM).
DEEP = """
const [selector, start] = arguments;
const found = [];
function walk(root) {
  for (const el of root.querySelectorAll('*')) {
    if (el.matches(selector)) found.push(el);
    if (el.shadowRoot) walk(el.shadowRoot);
  }
}
walk(start ? (start.shadowRoot || start) : document);
return found;
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _explore(port: int, *extra: str) -> subprocess.Popen:
    """``xent-jax explore`` in its own process, SIGINT as a terminal gives it (test_signals)."""
    code = (
        "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
        "os.execv(sys.executable, [sys.executable, '-m', 'xent_jax', *sys.argv[1:]])"
    )
    argv = ["explore", "--no-browser", "--port", str(port), *extra]
    return subprocess.Popen(
        [sys.executable, "-c", code, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until_serving(child: subprocess.Popen) -> str:
    line = child.stdout.readline()  # blocks until the server prints its address, or exits
    assert line.startswith("xent-jax explore: serving http://"), (line, child.stderr.read())
    return line.split()[3]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    child = _explore(port)
    try:
        yield _wait_until_serving(child)
    finally:
        child.send_signal(signal.SIGINT)
        child.communicate(timeout=30)


@pytest.fixture
def browser(tmp_path):
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        if os.environ.get("CI"):  # .ci/run installs them: missing there is a failure
            pytest.fail("Debian's chromium and chromium-driver are not installed")
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _deep(driver, selector, start=None):
    return driver.execute_script(DEEP, selector, start)


def _page_numbers(driver) -> dict:
    """What the page shows: the start and, per loss, each number's text."""
    shown = {
        (c.get_attribute("data-loss"), c.get_attribute("data-field")): c.text
        for c in _deep(driver, "td[data-loss][data-field]")
    }
    for span in _deep(driver, "span[data-field]"):
        shown[(None, span.get_attribute("data-field"))] = span.text
    return shown


def _wait_for(condition, seconds=PAGE_SECONDS):
    from selenium.common.exceptions import StaleElementReferenceException

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = condition()
        except StaleElementReferenceException:  # the page re-rendered while being read: again
            value = None
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError("the page did not get there in time")


def _expected(w0, b0, **settings) -> dict:
    """The page's numbers for a start, computed by train() itself."""
    rates = settings.pop("rates", {"mse": 0.15, "ce": 0.005})
    expected = {}
    for loss, eta in rates.items():
        run = train(loss, w0, b0, learning_rate=eta, **settings)
        half, takeoff = run.half_error_epoch, run.takeoff_epoch
        expected[(loss, "takeoff_epoch")] = "censored" if takeoff is None else str(takeoff)
        expected[(loss, "half_error_epoch")] = "censored" if half is None else str(half)
        expected[(loss, "final_output")] = f"{np.mean(run.final_output):.4f}"
        expected[(loss, "final_loss")] = f"{run.final_loss:.4g}"
    return expected


def _shows_train(driver, **settings) -> tuple[float, float]:
    shown = _page_numbers(driver)
    w0, b0 = float(shown[(None, "w0")]), float(shown[(None, "b0")])
    for key, value in _expected(w0, b0, **settings).items():
        assert shown[key].split(" ")[0] == value, (key, shown[key], value)
    return w0, b0


def _errors(driver) -> list:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_slider_and_atlas_click_show_trains_numbers(server, browser):
    from selenium.webdriver.common.action_chains import ActionChains

    browser.get(server)
    _wait_for(lambda: _page_numbers(browser).get(("mse", "half_error_epoch")))
    assert _errors(browser) == []
    assert _shows_train(browser) == (2.0, 2.0)  # the seed's saturated start

    # drag the w0 slider's handle to the left
    (w0_control,) = _deep(browser, ".xj-w0")
    (handle,) = _deep(browser, ".noUi-handle", w0_control)
    ActionChains(browser).click_and_hold(handle).move_by_offset(-60, 0).release().perform()
    _wait_for(lambda: _page_numbers(browser)[(None, "w0")] != "2.0")
    w0, b0 = _shows_train(browser)
    assert w0 < 2.0 and b0 == 2.0
    _wait_for(lambda: f"w0={np.float32(w0)!s}&" in browser.current_url)  # the URL follows

    # click a start on the quadratic loss's atlas, left of and below its centre
    (atlas,) = _deep(browser, ".xj-atlas-mse")
    ActionChains(browser).move_to_element_with_offset(atlas, -40, 60).click().perform()
    _wait_for(lambda: _page_numbers(browser)[(None, "b0")] != "2.0")
    w0, b0 = _shows_train(browser)
    grid = np.linspace(-4, 4, 128).astype(np.float32)  # a start of the 128² atlas
    assert np.float32(w0) in grid and np.float32(b0) in grid and b0 < 0
    assert _errors(browser) == []


def test_a_shared_url_restores_its_settings(server, browser):
    query = "w0=-1.5&b0=0.75&eta_mse=0.3&eta_ce=0.05&epochs=400&data=pull&tau=1"
    browser.get(f"{server}?{query}")
    _wait_for(lambda: _page_numbers(browser).get(("ce", "learning_rate")) == "0.05")
    assert _errors(browser) == []
    w0, b0 = _shows_train(browser, rates={"mse": 0.3, "ce": 0.05}, epochs=400, data="pull")
    assert (w0, b0) == (-1.5, 0.75)
    shown = _page_numbers(browser)
    assert shown[("mse", "learning_rate")] == "0.3"
    (epochs_control,) = _deep(browser, ".xj-epochs")
    assert "400" in [i.get_attribute("value") for i in _deep(browser, "input", epochs_control)]
    half = shown[("ce", "half_error_epoch")]  # read in flow time: "E (τ = …)"
    assert half == "censored" or half.endswith(f"(τ = {int(half.split()[0]) * 0.05:.4g})")


def test_ctrl_c_exits_130_with_one_line():
    child = _explore(_free_port())
    _wait_until_serving(child)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 130, err
    assert err == "xent-jax: interrupted\n"
    assert time.monotonic() - sent < 2.0


def test_a_taken_port_is_refused_in_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        child = _explore(port)
        out, err = child.communicate(timeout=120)
    assert child.returncode == 2 and out == ""
    assert (
        err == f"xent-jax: error: port {port} is in use on 127.0.0.1: choose another with --port\n"
    )


def test_without_the_explore_extra_the_command_says_what_to_install(tmp_path):
    # Panel hidden: a module named panel that cannot be imported
    (tmp_path / "panel.py").write_text("raise ImportError('hidden by the test')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    done = subprocess.run(
        [sys.executable, "-m", "xent_jax", "explore", "--no-browser"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    assert (
        done.stderr == "xent-jax: error: explore needs Panel, which is not installed: "
        'pip install "xent-jax[explore]"\n'
    )
