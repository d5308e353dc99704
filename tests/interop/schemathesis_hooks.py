"""schemathesis hooks (SCHEMATHESIS_HOOKS) of tests/interop/schemathesis.sh.

For the admin-service run (INTEROP_FUZZ_ROOT_AUTH=1): every request carries
`Authorization: Bearer <root token>`, as a fixed -H header would, but the token comes from
an auth provider, so that after the fuzzer itself revokes every root token
(POST /api/v1/oauth/client/root/revoke is a legitimate, schema-valid request) a 401 makes
schemathesis fetch a fresh root token and replay the request, instead of the rest of the
run seeing nothing but 401s.
"""

import os

import requests
import schemathesis

if os.environ.get("INTEROP_FUZZ_ROOT_AUTH") == "1":

    @schemathesis.auth(refresh_interval=300, retry_on=[401])
    class RootBearerToken:
        def get(self, case, context):
            response = requests.post(
                f"{os.environ['INTEROP_TOKEN_URL']}/api/v1/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": os.environ["INTEROP_ROOT_CLIENT_ID"],
                    "client_secret": os.environ["INTEROP_ROOT_CLIENT_SECRET"],
                },
                timeout=10,
            )
            response.raise_for_status()
            return response.json()["access_token"]

        def set(self, case, data, context):
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {data}"
