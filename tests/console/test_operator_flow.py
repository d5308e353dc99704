"""The issue's flow, in a real browser against the real services: sign in as root; create a
client and read its secret once; change its scopes; see a limited client's escalation
refused; revoke the client's tokens and watch its old token fail; delete it."""

from __future__ import annotations

import time

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec

from conftest import (
    Services,
    clickable,
    confirm,
    fill,
    go,
    message,
    sign_in,
    sign_out,
    unique,
    visible,
    wait,
)

ESCALATION = "insufficient_scope: the caller does not hold, so cannot grant: audit:read"


def scope_box(driver, form_css: str, scope: str):
    return visible(driver, f'{form_css} input[type="checkbox"][value="{scope}"]')


def test_operator_flow(browser, services: Services, root_token: str, make_client) -> None:
    # --- sign in as root and create a client: the secret is shown once -------------------
    sign_in(browser, services, services.root_id, services.root_secret)
    name = unique("console-flow")
    fill(browser, "#create-name", name)
    scope_box(browser, "#create-client", "client:read").click()
    clickable(browser, "#create-submit").click()
    secret_field = visible(browser, "#shown-secret")
    secret = secret_field.get_attribute("value")
    client_id = browser.find_element(By.ID, "shown-client-id").text
    assert secret.startswith("ocs_"), secret
    assert client_id.startswith("cid_"), client_id
    clickable(browser, "#copy-secret").click()  # a copy button is there and works (or selects)
    clickable(browser, "#close-secret").click()
    wait(browser).until_not(ec.presence_of_element_located((By.CSS_SELECTOR, "dialog[open]")))
    assert secret not in browser.page_source
    # The secret is the real one.
    services.access_token(client_id, secret)

    # It is never shown again: not on its page, not after a reload and a new sign-in.
    clickable(browser, "#created-client-link").click()
    assert visible(browser, "#client-id").text == client_id
    assert secret not in browser.page_source
    browser.refresh()
    sign_in(browser, services, services.root_id, services.root_secret)
    go(browser, services, f"clients/{client_id}")
    assert visible(browser, "#client-id").text == client_id
    assert visible(browser, "#client-scopes").text == "client:read"
    assert secret not in browser.page_source

    # --- change its scopes -----------------------------------------------------------------
    scope_box(browser, "#scopes-form", "scope:read").click()
    clickable(browser, "#scopes-save").click()
    assert message(browser, "#scopes-form", "success") == "Scopes saved."
    assert visible(browser, "#client-scopes").text == "client:read scope:read"
    scopes = services.admin("GET", f"/api/v1/oauth/client/{client_id}/scope", root_token).json()
    assert sorted(scopes) == ["client:read", "scope:read"]

    # --- a limited client cannot grant what it does not hold --------------------------------
    limited = make_client(["client:read", "client:update", "scope:read"], unique("console-limited"))
    sign_out(browser)
    sign_in(browser, services, limited.client_id, limited.secret)
    go(browser, services, f"clients/{client_id}")
    scope_box(browser, "#scopes-form", "audit:read").click()
    clickable(browser, "#scopes-save").click()
    assert message(browser, "#scopes-form", "error") == ESCALATION
    scopes = services.admin("GET", f"/api/v1/oauth/client/{client_id}/scope", root_token).json()
    assert sorted(scopes) == ["client:read", "scope:read"], "the refused change was applied"

    # --- revoke every token of the client: its old token stops working ----------------------
    old_token = services.access_token(client_id, secret)
    assert services.admin("GET", "/api/v1/oauth/client", old_token).status_code == 200
    sign_out(browser)
    sign_in(browser, services, services.root_id, services.root_secret)
    go(browser, services, f"clients/{client_id}")
    clickable(browser, "#revoke-all").click()
    confirm(browser, "Revoke tokens")
    assert message(browser, "section[aria-labelledby='tokens-heading']", "success")
    # The cut-off reaches every verifier over Redis: poll with a deadline.
    deadline = time.monotonic() + 10
    status = None
    while time.monotonic() < deadline:
        status = services.admin("GET", "/api/v1/oauth/client", old_token).status_code
        if status == 401:
            break
        time.sleep(0.1)
    assert status == 401, f"the revoked token still answers {status}"
    # A cut-off, not a ban: a new token works.
    new_token = services.access_token(client_id, secret)
    assert services.admin("GET", "/api/v1/oauth/client", new_token).status_code == 200

    # --- the audit trail shows the refused escalation ---------------------------------------
    go(browser, services, "audit")
    fill(browser, "#audit-action", "client.scopes.replace")
    fill(browser, "#audit-target", client_id)
    browser.find_element(By.CSS_SELECTOR, "#audit-outcome option[value='refused']").click()
    clickable(browser, "#audit-apply").click()
    wait(browser).until(lambda d: "1 matching" in d.find_element(By.ID, "audit-status").text)
    row = visible(browser, "#audit-results tbody tr").text
    assert limited.client_id in row and "refused" in row, row

    # --- delete it, with a confirmation (cancelling first keeps it) -------------------------
    go(browser, services, f"clients/{client_id}")
    clickable(browser, "#delete-client").click()
    # The confirmation is a modal dialog: Escape (the keyboard's cancel) closes it, and
    # nothing is deleted.
    visible(browser, "dialog[open]")
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(browser).until_not(ec.presence_of_element_located((By.CSS_SELECTOR, "dialog[open]")))
    assert services.admin("GET", f"/api/v1/oauth/client/{client_id}", root_token).status_code == 200
    clickable(browser, "#delete-client").click()
    confirm(browser, "Delete client")
    wait(browser).until(lambda d: d.execute_script("return window.location.hash") == "#/clients")
    assert services.admin("GET", f"/api/v1/oauth/client/{client_id}", root_token).status_code == 404
    assert services.token(client_id, secret).status_code == 401
