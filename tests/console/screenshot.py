"""Takes docs/console.png, the README's picture of the clients page.

    scripts/run                                   # in one shell (a fresh ./data is best)
    python tests/console/screenshot.py http://127.0.0.1:8080 data/root-credentials.env docs/console.png

with the console venv's Python (${AUTHSVC_CACHE:-~/.cache/authsvc}/console-venv/bin/python,
made by scripts/console-test). Creates a few example clients first, through the API.
"""

from __future__ import annotations

import sys

import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as DriverService

from conftest import sign_in, visible, Services

EXAMPLES = [
    ("orders-api", ["client:read"]),
    ("billing-worker", ["client:read", "scope:read"]),
    ("reports-job", ["audit:read"]),
    ("ci-deployer", ["client:create", "client:read", "client:update"]),
]


def main(base: str, credentials_file: str, out: str) -> None:
    values = dict(
        line.strip().split("=", 1) for line in open(credentials_file, encoding="utf-8") if "=" in line
    )
    services = Services(base, base, values["OAUTH_ROOT_CLIENT_ID"], values["OAUTH_ROOT_CLIENT_SECRET"])
    token = services.access_token(services.root_id, services.root_secret)
    for name, scopes in EXAMPLES:
        response = services.admin("POST", "/api/v1/oauth/client", token, {"name": name, "scopes": scopes})
        response.raise_for_status()
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--window-size=1100,760", "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=DriverService(executable_path="/usr/bin/chromedriver"), options=options)
    try:
        sign_in(driver, services, services.root_id, services.root_secret)
        visible(driver, "#client-list table")
        driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
        driver.save_screenshot(out)
    finally:
        driver.quit()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    requests.packages.urllib3.disable_warnings()
    main(*sys.argv[1:])
