#!/usr/bin/env python3
"""Writes, for `redis-cli --pipe`, N revoked-token records as the services write them
(PREFIX:rev:jti:<id> = the expiry in seconds, expiring the second after), ids of this service's form (16 random
bytes, base64url): usage: revocations.py N PREFIX LIFETIME_SECONDS."""
import base64
import os
import sys
import time

count, prefix, lifetime = int(sys.argv[1]), sys.argv[2].encode(), int(sys.argv[3])
expiry = int(time.time()) + lifetime
value, expires = str(expiry).encode(), str(expiry + 1).encode()
out = sys.stdout.buffer
for _ in range(count):
    jti = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=")
    key = prefix + b":rev:jti:" + jti
    out.write(b"*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$4\r\nEXAT\r\n$%d\r\n%s\r\n"
              % (len(key), key, len(value), value, len(expires), expires))
