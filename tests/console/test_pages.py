"""The other pages: custom scopes, trusted issuers, single-token revocation, paging through
clients, and every form field labelled on every page."""

from __future__ import annotations

import time

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec

from conftest import Services, clickable, confirm, fill, go, message, sign_in, unique, visible, wait

# Every visible input, select and textarea has a label (its own <label for>, or a wrapping one).
UNLABELLED = """
return Array.from(document.querySelectorAll('input, select, textarea'))
  .filter((e) => e.type !== 'hidden' && e.offsetParent !== null && e.labels.length === 0)
  .map((e) => e.outerHTML);
"""


def test_every_field_is_labelled(browser, services: Services, make_client) -> None:
    browser.get(services.console)
    visible(browser, "#signin-form")
    assert browser.execute_script(UNLABELLED) == []
    sign_in(browser, services, services.root_id, services.root_secret)
    client = make_client(["client:read"])
    for route, ready in [
        ("clients", "#client-list table"),
        (f"clients/{client.client_id}", "#scopes-form"),
        ("scopes", "#add-scope"),
        ("issuers", "#register-issuer"),
        ("revocations", "#revoke-client"),
        ("audit", "#audit-results table"),
    ]:
        go(browser, services, route)
        visible(browser, ready)
        assert browser.execute_script(UNLABELLED) == [], route
        # The headings say where one is.
        assert browser.find_elements(By.CSS_SELECTOR, "main h1"), route


def test_custom_scopes(browser, services: Services, root_token: str) -> None:
    sign_in(browser, services, services.root_id, services.root_secret)
    go(browser, services, "scopes")
    name = unique("reports") + ":read"
    fill(browser, "#scope-name", name)
    clickable(browser, "#scope-add").click()
    assert message(browser, "#add-scope", "success") == f"Added {name}."
    assert name in services.admin("GET", "/api/v1/oauth/scope", root_token).json()
    remove = clickable(browser, f'button[aria-label="Remove {name}"]')
    remove.click()
    confirm(browser, "Remove scope")
    wait(browser).until(ec.invisibility_of_element_located((By.CSS_SELECTOR, f'button[aria-label="Remove {name}"]')))
    assert name not in services.admin("GET", "/api/v1/oauth/scope", root_token).json()
    # A built-in scope cannot be removed: the API's words are shown.
    clickable(browser, 'button[aria-label="Remove client:read"]').click()
    confirm(browser, "Remove scope")
    assert message(browser, "main", "error") == "conflict: built-in scopes cannot be removed"


def test_trusted_issuers_and_identities(browser, services: Services, make_client, root_token: str) -> None:
    sign_in(browser, services, services.root_id, services.root_secret)
    go(browser, services, "issuers")
    issuer = f"https://{unique('ci')}.example"
    fill(browser, "#issuer-iss", issuer)
    fill(browser, "#issuer-jwks-uri", f"{issuer}/jwks.json")
    clickable(browser, "#issuer-register").click()
    assert message(browser, "#register-issuer", "success").startswith(f"Registered {issuer} as iss_")
    wait(browser).until(lambda d: issuer in d.find_element(By.TAG_NAME, "main").text.split("Register an issuer")[0])

    # Bind a subject of it to a client, on the client's page.
    client = make_client(["client:read"])
    go(browser, services, f"clients/{client.client_id}")
    fill(browser, "#identities", f"{issuer} repo:example/*")
    clickable(browser, "#identities-save").click()
    assert message(browser, "#identities-form", "success") == "Identities saved."
    shown = services.admin("GET", f"/api/v1/oauth/client/{client.client_id}", root_token).json()
    assert shown["identities"] == [{"issuer": issuer, "subject": "repo:example/*"}]
    # An unregistered issuer is refused as the API words it.
    fill(browser, "#identities", "https://unknown.example sub")
    clickable(browser, "#identities-save").click()
    error = message(browser, "#identities-form", "error")
    assert error.startswith("invalid_client_metadata: unknown issuers"), error

    go(browser, services, "issuers")
    clickable(browser, f'button[aria-label="Delete {issuer}"]').click()
    confirm(browser, "Delete issuer")
    wait(browser).until_not(ec.presence_of_element_located((By.CSS_SELECTOR, f'button[aria-label="Delete {issuer}"]')))
    listed = services.admin("GET", "/api/v1/oauth/issuer", root_token).json()
    assert issuer not in [item["issuer"] for item in listed]


def test_revoking_one_token(browser, services: Services, make_client) -> None:
    client = make_client(["client:read"])
    token = services.access_token(client.client_id, client.secret)
    other = services.access_token(client.client_id, client.secret)
    sign_in(browser, services, services.root_id, services.root_secret)
    go(browser, services, "revocations")
    fill(browser, "#revoke-token", token)
    clickable(browser, "#revoke-token-submit").click()
    assert message(browser, "#revoke-by-token", "success") == "The token is revoked."
    deadline = time.monotonic() + 10
    while services.admin("GET", "/api/v1/oauth/client", token).status_code != 401:
        assert time.monotonic() < deadline, "the revoked token is still accepted"
        time.sleep(0.1)
    # Only that one.
    assert services.admin("GET", "/api/v1/oauth/client", other).status_code == 200


def test_paging_through_clients(browser, services: Services, make_client) -> None:
    # At least two pages of 20.
    for _ in range(21):
        make_client([])
    sign_in(browser, services, services.root_id, services.root_secret)
    first_page = visible(browser, "#client-list tbody").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#client-list tbody tr")) == 20
    assert not clickable(browser, "#page-next").get_attribute("disabled")
    clickable(browser, "#page-next").click()
    wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, "#client-list tbody").text != first_page)
    assert clickable(browser, "#page-previous").is_enabled()
    clickable(browser, "#page-previous").click()
    wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, "#client-list tbody").text == first_page)


def rows(browser) -> list[str]:
    return [row.text for row in browser.find_elements(By.CSS_SELECTOR, "#client-list tbody tr")]


def test_searching_clients_on_the_server(browser, services: Services, make_client) -> None:
    """The search asks the API (`q`): it finds a client on any page of the listing, and
    pages through its own matches."""
    team = unique("Search-Team")
    members = [make_client([], f"{team} member {n:02}").client_id for n in range(23)]
    # Clients created after them, so that the one looked for is not on the first page.
    for _ in range(21):
        make_client([])
    wanted = members[17]
    sign_in(browser, services, services.root_id, services.root_secret)
    visible(browser, "#client-list tbody")
    assert wanted not in browser.find_element(By.CSS_SELECTOR, "#client-list tbody").text

    # Part of a name, in another case; submitted with Enter.
    fill(browser, "#client-search", f"{team.lower()} MEMBER 17")
    browser.find_element(By.ID, "client-search").send_keys(Keys.ENTER)
    wait(browser).until(lambda d: len(rows(d)) == 1 and wanted in rows(d)[0])
    assert visible(browser, "#client-count").text == f"1 client matches “{team.lower()} MEMBER 17”."

    # The team: 23 matches, a page of 20, then 3; the pages hold only matches.
    fill(browser, "#client-search", team)
    clickable(browser, "#client-search-submit").click()
    wait(browser).until(lambda d: len(rows(d)) == 20 and all(team in row for row in rows(d)))
    assert visible(browser, "#client-count").text == f"23 clients match “{team}”."
    first = rows(browser)
    clickable(browser, "#page-next").click()
    wait(browser).until(lambda d: len(rows(d)) == 3)
    assert [row.split()[0] for row in first + rows(browser)] == members
    assert browser.find_element(By.ID, "page-next").get_attribute("disabled") is not None
    clickable(browser, "#page-previous").click()
    wait(browser).until(lambda d: rows(d) == first)

    # Wildcards are text: nothing has "%" in it here.
    fill(browser, "#client-search", f"{team}%")
    clickable(browser, "#client-search-submit").click()
    wait(browser).until(lambda d: d.find_element(By.ID, "client-count").text == f"No clients match “{team}%”.")
    assert rows(browser) == []

    # Emptying the box lists every client again.
    browser.find_element(By.ID, "client-search").clear()
    browser.find_element(By.ID, "client-search").send_keys("x", Keys.BACKSPACE)
    wait(browser).until(lambda d: len(rows(d)) == 20 and not d.find_element(By.ID, "client-count").text)


def test_filtering_the_audit_trail_on_the_server(browser, services: Services, make_client, root_token: str) -> None:
    client = make_client(["client:read"])
    response = services.admin("PUT", f"/api/v1/oauth/client/{client.client_id}/scope", root_token, ["scope:read"])
    assert response.status_code == 200, response.text
    sign_in(browser, services, services.root_id, services.root_secret)
    go(browser, services, "audit")
    visible(browser, "#audit-results table")
    fill(browser, "#audit-target", client.client_id)
    clickable(browser, "#audit-apply").click()
    wait(browser).until(lambda d: d.find_element(By.ID, "audit-status").text == "2 of 2 matching events shown.")
    actions = [row.text.split()[2] for row in browser.find_elements(By.CSS_SELECTOR, "#audit-results tbody tr")]
    assert actions == ["client.create", "client.scopes.replace"]

    # Combined with an action and a time range that includes both ends.
    occurred = browser.find_elements(By.CSS_SELECTOR, "#audit-results tbody tr td:first-child")[1].text
    fill(browser, "#audit-action", "client.scopes.replace")
    fill(browser, "#audit-since", occurred)
    fill(browser, "#audit-until", occurred)
    clickable(browser, "#audit-apply").click()
    wait(browser).until(lambda d: d.find_element(By.ID, "audit-status").text == "1 of 1 matching events shown.")

    # A bad value is the API's 400, shown as it words it.
    fill(browser, "#audit-since", "yesterday")
    clickable(browser, "#audit-apply").click()
    error = message(browser, "main", "error")
    assert error.startswith("invalid_request: since must be an RFC 3339 date-time"), error


def test_rotating_a_secret_with_a_grace_period(browser, services: Services, make_client) -> None:
    client = make_client(["client:read"])
    sign_in(browser, services, services.root_id, services.root_secret)
    go(browser, services, f"clients/{client.client_id}")
    fill(browser, "#rotate-grace", "600")
    clickable(browser, "#rotate-submit").click()
    new_secret = visible(browser, "#shown-secret").get_attribute("value")
    assert new_secret.startswith("ocs_") and new_secret != client.secret
    clickable(browser, "#close-secret").click()
    wait(browser).until_not(ec.presence_of_element_located((By.CSS_SELECTOR, "dialog[open]")))
    assert new_secret not in browser.page_source
    assert "The previous secret works until" in message(browser, "#rotate-form", "success")
    # Both work during the grace period.
    services.access_token(client.client_id, new_secret)
    services.access_token(client.client_id, client.secret)


def test_values_from_the_api_are_shown_as_text(browser, services: Services, make_client) -> None:
    """A client name is someone else's input: markup in it stays text (and the CSP would
    refuse an inline handler anyway)."""
    name = '<img src=x onerror="document.title=1">' + unique("x")
    client = make_client(["client:read"], name)
    sign_in(browser, services, services.root_id, services.root_secret)
    go(browser, services, f"clients/{client.client_id}")
    visible(browser, "#client-id")
    details = browser.find_element(By.CSS_SELECTOR, "main dl").text
    assert name in details
    assert browser.find_elements(By.CSS_SELECTOR, "main img") == []
    assert browser.title == "authsvc console"
