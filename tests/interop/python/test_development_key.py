"""The development signing key the services generate (./data/signing-key.pem) is read by
Python's `cryptography` and by OpenSSL 3 (both refuse PKCS#8 v2 Ed25519 keys), and it is
the key the published JWKS describes."""

from __future__ import annotations

import base64
import os
import subprocess

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import TIMEOUT


def _key_file() -> str:
    path = os.environ.get("INTEROP_SIGNING_KEY_FILE")
    if not path:
        raise RuntimeError("INTEROP_SIGNING_KEY_FILE is not set: run with scripts/interop python")
    return path


def test_cryptography_loads_the_generated_key_and_it_matches_the_jwks(service):
    with open(_key_file(), "rb") as pem:
        key = serialization.load_pem_private_key(pem.read(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    x = base64.urlsafe_b64encode(public).rstrip(b"=").decode()
    jwks = requests.get(f"{service.token_url}/.well-known/jwks.json", timeout=TIMEOUT).json()
    assert x in [jwk.get("x") for jwk in jwks["keys"]], jwks


def test_openssl_reads_the_generated_key():
    result = subprocess.run(
        ["openssl", "pkey", "-in", _key_file(), "-noout", "-text"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "ED25519" in result.stdout.upper()
