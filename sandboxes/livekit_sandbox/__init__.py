"""A local, stateful fake of the LiveKit server for the tests and the offline demo.

It answers LiveKit's RoomService Twirp API (`POST /twirp/livekit.RoomService/<Method>`, in
protobuf as the official `livekit-api` client sends it, or JSON as `curl` does), checks the
`Authorization: Bearer <JWT>` on every call (HS256 with the API secret, `iss` the API key, and
the video grants LiveKit asks for: `roomCreate`, `roomList`, `roomAdmin` for that room), and
sends webhooks exactly as LiveKit does: the JSON of a `livekit.WebhookEvent`, content type
`application/webhook+json`, and `Authorization: <JWT>` whose `sha256` claim is the base64
SHA-256 of the body. Besides the standard library it uses only `livekit-api`, a base
dependency of the product, for the protobuf classes and the token code.

    sandbox = LiveKitSandbox(webhook_url="http://127.0.0.1:8000/webhooks/livekit")
    server, base_url = serve(sandbox=sandbox)
    lkapi = api.LiveKitAPI(base_url, sandbox.api_key, sandbox.api_secret)

Media is not carried: routes under `/_sandbox/` play the clients' part instead (someone joins
or leaves a room, LiveKit ends a room, webhooks get lost), with no authentication.

One module a concern: `room_service` (the Twirp API), `rooms` (rooms, participants, presence),
`webhooks` (events, signing, delivery), `control` (the `/_sandbox/` routes), `twirp` (its
wire format and errors), `state`, and `sandbox`, which puts them together; `server` runs it.
"""

from sandboxes.livekit_sandbox.sandbox import LiveKitSandbox
from sandboxes.livekit_sandbox.server import main, serve
from sandboxes.livekit_sandbox.state import DEFAULT_API_KEY, DEFAULT_API_SECRET
from sandboxes.livekit_sandbox.twirp import TwirpError
from sandboxes.livekit_sandbox.webhooks import webhook_authorization, webhook_body

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_API_SECRET",
    "LiveKitSandbox",
    "TwirpError",
    "main",
    "serve",
    "webhook_authorization",
    "webhook_body",
]
