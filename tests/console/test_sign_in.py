"""Signing in: a wrong secret shows token-service's error and leaves no token anywhere; a
right one keeps the token in page memory only (nothing in web storage or cookies), and a
reload forgets it. The sign-in works from the keyboard alone."""

from __future__ import annotations

from urllib.parse import urlencode

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import Services, fill, message, sign_in, visible, wait

STORAGE = (
    "return [window.localStorage.length, window.sessionStorage.length, document.cookie,"
    " Object.keys(window.localStorage).concat(Object.keys(window.sessionStorage))]"
)


def test_a_wrong_secret_shows_the_error_and_no_token(browser, services: Services) -> None:
    browser.get(services.console)
    fill(browser, "#signin-client-id", services.root_id)
    fill(browser, "#signin-secret", "not-the-secret")
    browser.find_element(By.ID, "signin-submit").click()
    text = message(browser, "#signin-form", "error")
    assert text.startswith("invalid_client: "), text
    assert not browser.find_element(By.ID, "nav").is_displayed()
    assert browser.execute_script(STORAGE) == [0, 0, "", []]
    assert browser.get_cookies() == []


def test_the_token_is_kept_in_memory_only(browser, services: Services) -> None:
    sign_in(browser, services, services.root_id, services.root_secret)
    visible(browser, "#client-list table")
    assert browser.execute_script(STORAGE) == [0, 0, "", []]
    assert browser.get_cookies() == []
    # The secret field was cleared; the who-am-I line names the client.
    assert services.root_id in browser.find_element(By.ID, "who").text
    # A reload forgets the token: the sign-in form again.
    browser.refresh()
    visible(browser, "#signin-form")
    assert not browser.find_element(By.ID, "nav").is_displayed()


def revocations_by(services: Services, root_token: str, actor: str) -> int:
    """How many token.revoke events `actor` has in the audit trail (the API's filters)."""
    query = urlencode({"action": "token.revoke", "actor": actor, "size": 1})
    page = services.admin("GET", f"/api/v1/oauth/audit?{query}", root_token).json()
    assert not page["total_is_estimate"], page
    return page["total"]


def test_sign_in_and_out_with_the_keyboard(browser, services: Services, root_token: str) -> None:
    before = revocations_by(services, root_token, services.root_id)
    browser.get(services.console)
    visible(browser, "#signin-client-id")
    # Focus starts in the first field; Tab moves on, Enter submits.
    wait(browser).until(lambda d: d.switch_to.active_element.get_attribute("id") == "signin-client-id")
    active = browser.switch_to.active_element
    active.send_keys(services.root_id, Keys.TAB)
    browser.switch_to.active_element.send_keys(services.root_secret, Keys.ENTER)
    visible(browser, "#nav")
    sign_out_button = browser.find_element(By.ID, "sign-out")
    sign_out_button.send_keys(Keys.ENTER)
    visible(browser, "#signin-form")
    assert "Signed out: the token is revoked" in browser.find_element(By.ID, "signin-form").text
    # Root holds token:revoke: signing out revoked the console's token.
    assert revocations_by(services, root_token, services.root_id) == before + 1
