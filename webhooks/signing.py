"""Secrets and signatures as the Standard Webhooks specification defines them, through its reference library.

A secret is `whsec_` and the base64 of 32 random bytes (the spec allows 24 to 64). A delivery carries `webhook-id`
(the event's message id, the same on every retry), `webhook-timestamp` (Unix seconds of this attempt) and
`webhook-signature` (`v1,` and the base64 HMAC-SHA256 of `<id>.<timestamp>.<body>`).
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 (the spec's marker, not a secret)


def secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signed_headers(*, secret: str, message_id: str, body: bytes, at: dt.datetime) -> dict[str, str]:
    signature = Webhook(secret).sign(msg_id=message_id, timestamp=at, data=body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }
