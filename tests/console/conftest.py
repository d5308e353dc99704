"""Fixtures of the console's browser tests.

scripts/console-test starts the real services (tests/interop/lib.sh) and exports
INTEROP_TOKEN_URL, INTEROP_ADMIN_URL, INTEROP_ROOT_CLIENT_ID, INTEROP_ROOT_CLIENT_SECRET,
CHROMIUM, CHROMEDRIVER and CONSOLE_ARTIFACTS. Without them every test errors (it is never
skipped). Each test gets its own headless Chromium, so no test sees another's page memory;
a failed test leaves a screenshot and the page source in CONSOLE_ARTIFACTS.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service as DriverService
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

TIMEOUT = 10  # seconds, every HTTP request and every wait for the page


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run these tests with scripts/console-test")
    return value


@dataclass(frozen=True)
class Services:
    token_url: str
    admin_url: str
    root_id: str
    root_secret: str

    @property
    def console(self) -> str:
        return f"{self.admin_url}/console/"

    def token(self, client_id: str, secret: str) -> requests.Response:
        return requests.post(
            f"{self.token_url}/api/v1/oauth/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
            timeout=TIMEOUT,
        )

    def access_token(self, client_id: str, secret: str) -> str:
        response = self.token(client_id, secret)
        assert response.status_code == 200, f"token for {client_id}: {response.status_code} {response.text}"
        return response.json()["access_token"]

    def admin(self, method: str, path: str, token: str, body=None) -> requests.Response:
        return requests.request(
            method,
            f"{self.admin_url}{path}",
            headers={"Authorization": f"Bearer {token}"},
            json=body,
            timeout=TIMEOUT,
        )


@pytest.fixture(scope="session")
def services() -> Services:
    return Services(
        token_url=_env("INTEROP_TOKEN_URL").rstrip("/"),
        admin_url=_env("INTEROP_ADMIN_URL").rstrip("/"),
        root_id=_env("INTEROP_ROOT_CLIENT_ID"),
        root_secret=_env("INTEROP_ROOT_CLIENT_SECRET"),
    )


@pytest.fixture(scope="session")
def root_token(services: Services) -> str:
    return services.access_token(services.root_id, services.root_secret)


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str


@pytest.fixture(scope="session")
def make_client(services: Services, root_token: str):
    """make_client(scopes, name=None): a client created through the API as root."""

    def make(scopes: list[str], name: str | None = None) -> Client:
        body: dict = {"scopes": scopes}
        if name:
            body["name"] = name
        response = services.admin("POST", "/api/v1/oauth/client", root_token, body)
        assert response.status_code == 200, f"create client: {response.status_code} {response.text}"
        created = response.json()
        return Client(created["client_id"], created["client_secret"])

    return make


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def browser(request) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = _env("CHROMIUM")
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI containers run as root, where Chromium's sandbox cannot start
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=DriverService(executable_path=_env("CHROMEDRIVER")), options=options)
    driver.set_page_load_timeout(TIMEOUT)
    yield driver
    failed = any(
        getattr(request.node, f"report_{when}", None) is not None
        and getattr(request.node, f"report_{when}").failed
        for when in ("setup", "call")
    )
    try:
        if failed:
            save_artifacts(driver, request.node.name)
    finally:
        driver.quit()


def save_artifacts(driver: WebDriver, name: str) -> None:
    directory = Path(os.environ.get("CONSOLE_ARTIFACTS") or "target/console-artifacts")
    directory.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    driver.save_screenshot(str(directory / f"{stem}.png"))
    (directory / f"{stem}.html").write_text(driver.page_source, encoding="utf-8")


# --- page helpers --------------------------------------------------------------------


def wait(driver: WebDriver, timeout: float = TIMEOUT) -> WebDriverWait:
    """Waits while the page re-renders: an element replaced meanwhile is looked up again."""
    return WebDriverWait(driver, timeout, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def visible(driver: WebDriver, css: str):
    return wait(driver).until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))


def clickable(driver: WebDriver, css: str):
    return wait(driver).until(ec.element_to_be_clickable((By.CSS_SELECTOR, css)))


def sign_in(driver: WebDriver, services: Services, client_id: str, secret: str) -> None:
    """Opens the console (if it is not open) and signs in; waits for the navigation."""
    if not driver.current_url.startswith(services.console):
        driver.get(services.console)
    fill(driver, "#signin-client-id", client_id)
    fill(driver, "#signin-secret", secret)
    clickable(driver, "#signin-submit").click()
    visible(driver, "#nav")


def sign_out(driver: WebDriver) -> None:
    clickable(driver, "#sign-out").click()
    visible(driver, "#signin-form")


def fill(driver: WebDriver, css: str, value: str) -> None:
    """Types `value` into the field; a field the page replaced while it was being filled
    (a route still rendering) is looked up and filled again."""

    def filled(driver: WebDriver) -> bool:
        element = driver.find_element(By.CSS_SELECTOR, css)
        if not element.is_displayed():
            return False
        element.clear()
        element.send_keys(value)
        return True

    wait(driver).until(filled)


def go(driver: WebDriver, services: Services, route: str) -> None:
    """Navigates within the page (#/route), keeping the session in memory."""
    driver.execute_script("window.location.hash = arguments[0]", f"#/{route}")


def message(driver: WebDriver, scope_css: str, kind: str) -> str:
    """The text of the first visible message of `kind` (error, success) under scope_css."""
    element = visible(driver, f"{scope_css} .message.{kind}")
    return element.text


def confirm(driver: WebDriver, label: str) -> None:
    """Clicks the button labelled `label` in the open dialog."""
    dialog = visible(driver, "dialog[open]")
    button = next(b for b in dialog.find_elements(By.TAG_NAME, "button") if b.text == label)
    button.click()
    wait(driver).until_not(ec.presence_of_element_located((By.CSS_SELECTOR, "dialog[open]")))


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"
