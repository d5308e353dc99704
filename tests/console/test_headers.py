"""What the console's answers say to the browser: a strict CSP on every one, the right
content types, and the contract's JSON 404 for a file that is not there."""

from __future__ import annotations

import requests

from conftest import TIMEOUT, Services

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def check_security_headers(response: requests.Response) -> None:
    assert response.headers.get("Content-Security-Policy") == CSP, response.headers
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") == "no-referrer"
    assert response.headers.get("X-Frame-Options") == "DENY"


def test_page_and_assets_carry_a_strict_csp(services: Services) -> None:
    for path, content_type in [
        ("/console", "text/html; charset=utf-8"),
        ("/console/", "text/html; charset=utf-8"),
        ("/console/assets/app.js", "text/javascript; charset=utf-8"),
        ("/console/assets/console.css", "text/css; charset=utf-8"),
    ]:
        response = requests.get(f"{services.admin_url}{path}", timeout=TIMEOUT)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"] == content_type, path
        check_security_headers(response)
        # Revalidated every time, answered 304 while unchanged.
        assert response.headers["Cache-Control"] == "no-cache", path
        again = requests.get(
            f"{services.admin_url}{path}",
            headers={"If-None-Match": response.headers["ETag"]},
            timeout=TIMEOUT,
        )
        assert again.status_code == 304, path


def test_the_page_has_no_inline_script_or_style(services: Services) -> None:
    page = requests.get(services.console, timeout=TIMEOUT).text
    assert "<style" not in page and " style=" not in page
    for script in page.split("<script")[1:]:
        assert 'src="/console/assets/' in script.split(">")[0], script[:80]


def test_an_unknown_asset_is_the_json_404(services: Services) -> None:
    for path in ["/console/assets/nope.js", "/console/assets/../Cargo.toml", "/console/elsewhere"]:
        response = requests.get(f"{services.admin_url}{path}", timeout=TIMEOUT)
        assert response.status_code == 404, path
        body = response.json()
        assert body["error"] == "not_found" and body["error_description"], body
        check_security_headers(response)


def test_the_sign_in_relay_answers_as_token_service(services: Services) -> None:
    refused = requests.post(
        f"{services.admin_url}/console/token",
        data={"grant_type": "client_credentials", "client_id": services.root_id, "client_secret": "wrong-secret"},
        timeout=TIMEOUT,
    )
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"] == "invalid_client"
    check_security_headers(refused)
    granted = requests.post(
        f"{services.admin_url}/console/token",
        data={"grant_type": "client_credentials", "client_id": services.root_id, "client_secret": services.root_secret},
        timeout=TIMEOUT,
    )
    assert granted.status_code == 200, granted.text
    assert granted.headers["Cache-Control"] == "no-store"
    token = granted.json()["access_token"]
    # The token is token-service's own: admin-service accepts it like any other.
    listed = services.admin("GET", "/api/v1/oauth/client", token)
    assert listed.status_code == 200, listed.text
