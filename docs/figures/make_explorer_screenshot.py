"""Take the README's screenshot of the explorer: ``xent-jax explore`` in headless Chromium.

python docs/figures/make_explorer_screenshot.py [--query QUERY] [--out docs/figures/explorer.png]

Starts ``xent-jax explore --no-browser`` on a free port, opens the page at the settings of
``--query`` (by default the seed's saturated start (2, 2), both losses at the quadratic loss's
η = 0.15, read in flow time), waits until the numbers are on the page, saves a 1600 × 900
screenshot (a projector's 16:9) and stops the server with Ctrl-C. Needs the ``explore`` extra,
Selenium and Debian's ``chromium`` and ``chromium-driver``.
"""

import argparse
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUERY = "w0=2&b0=2&one_eta=1&tau=1"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1600,1043",  # the page's viewport: 1600 × 900
)
NUMBERS = """
const found = [];
function walk(root) {
  for (const el of root.querySelectorAll('*')) {
    if (el.matches('td[data-field="half_error_epoch"]')) found.push(el.textContent);
    if (el.shadowRoot) walk(el.shadowRoot);
  }
}
walk(document);
return found;
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--query", default=QUERY)
    parser.add_argument("--out", type=Path, default=HERE / "explorer.png")
    args = parser.parse_args()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "xent_jax", "explore", "--no-browser", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = server.stdout.readline().split()[3]
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        with tempfile.TemporaryDirectory() as profile:
            for flag in (*FLAGS, f"--user-data-dir={profile}"):
                options.add_argument(flag)
            driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
            try:
                driver.get(f"{url}?{args.query}")
                deadline = time.monotonic() + 120
                while not driver.execute_script(NUMBERS) and time.monotonic() < deadline:
                    time.sleep(0.25)
                time.sleep(2)  # the canvases' last paint
                driver.save_screenshot(str(args.out))
            finally:
                driver.quit()
        print(f"wrote {args.out} ({url}?{args.query})")
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)


if __name__ == "__main__":
    main()
