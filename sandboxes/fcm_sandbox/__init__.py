"""A local, stateful fake of Firebase Cloud Messaging for the tests and the offline demo.

It plays two Google services, so the official `firebase-admin` SDK works against it unchanged:

* Google's OAuth2 token endpoint (`POST /token`), which a service account's `token_uri` names.
  google-auth posts a JWT-bearer assertion signed RS256 with the account's private key; the
  sandbox verifies it with the public half of the key it issued and answers an access token.
* FCM HTTP v1 (`POST /v1/projects/{project_id}/messages:send`), which requires that access
  token, validates the message much as FCM does, records what it accepts and answers FCM's
  own error bodies (so the SDK raises `UnregisteredError`, `InvalidArgumentError`, …).

Only the standard library and `cryptography` (a base dependency of Callrix) are used: the
product imports this package at run time with its base dependencies only.

    sandbox = FcmSandbox()
    server, base_url = serve(sandbox=sandbox)
    service_account = sandbox.create_service_account("aurora-push")   # token_uri -> sandbox
    # settings.FCM_API_BASE = base_url, then send through firebase-admin as usual
    sandbox.messages(token="device-token")

Routes under `/_sandbox/` are not Google's: they play the devices' and Google's part (a token
goes stale, FCM has an outage) and show what was sent.

One module a concern: `oauth` (service accounts and the token endpoint), `messaging` (the
send API) with `message_checks` (FCM's checks on a message), `control` (the `/_sandbox/`
routes), `wire` and `errors` (requests, answers and error shapes), `state`, and `sandbox`,
which puts them together; `server` runs it.
"""

from sandboxes.fcm_sandbox.errors import ControlError, FcmApiError, OAuthError
from sandboxes.fcm_sandbox.message_checks import check_send_request
from sandboxes.fcm_sandbox.sandbox import FcmSandbox
from sandboxes.fcm_sandbox.server import main, serve

__all__ = [
    "ControlError",
    "FcmApiError",
    "FcmSandbox",
    "OAuthError",
    "check_send_request",
    "main",
    "serve",
]
