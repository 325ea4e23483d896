"""Google's side of a service account: its key, issued as a Firebase console download whose
`token_uri` points at the sandbox, and the OAuth2 token endpoint (`POST /token`) that verifies
google-auth's JWT-bearer assertion (RS256, with the key's public half) and answers an access
token."""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl, quote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sandboxes._wsgi import Response
from sandboxes.fcm_sandbox.errors import ControlError, OAuthError
from sandboxes.fcm_sandbox.state import AccessToken, FcmState, ServiceAccount
from sandboxes.fcm_sandbox.wire import Request, json_response

ACCESS_TOKEN_LIFETIME_SECONDS = 3600
# Google refuses assertions meant to live longer than an hour, and allows some clock skew.
MAX_ASSERTION_LIFETIME_SECONDS = 3600
CLOCK_SKEW_SECONDS = 300
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# google-auth always addresses its assertion to Google's token endpoint, whatever `token_uri`
# says; Google also accepts its older endpoints' names. The sandbox's own URL is accepted too.
GOOGLE_TOKEN_AUDIENCES = (
    "https://oauth2.googleapis.com/token",
    "https://www.googleapis.com/oauth2/v4/token",
    "https://accounts.google.com/o/oauth2/token",
)
_PROJECT_ID = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _json_segment(part: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64url_decode(part))
    except (ValueError, binascii.Error):
        raise OAuthError("invalid_grant", "Invalid JWT: malformed segment.") from None
    if not isinstance(value, dict):
        raise OAuthError("invalid_grant", "Invalid JWT: malformed segment.")
    return value


def _new_key() -> tuple[str, str]:
    """A fresh RSA key as (PKCS#8 private PEM, as Google issues it; SubjectPublicKeyInfo PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def _rs256_valid(public_pem: str, signing_input: bytes, signature: bytes) -> bool:
    public_key = serialization.load_pem_public_key(public_pem.encode())
    if not isinstance(public_key, rsa.RSAPublicKey):
        return False
    try:
        public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


class OAuth(FcmState):
    """Service accounts and the token endpoint."""

    def _token(self, request: Request) -> Response:
        form = dict(parse_qsl(request.body.decode(errors="replace"), keep_blank_values=True))
        grant_type = form.get("grant_type", "")
        if grant_type != JWT_BEARER_GRANT:
            raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        with self._lock:
            grant = self._grant(form.get("assertion", ""), f"{request.base_url}/token")
        return json_response(
            200,
            {
                "access_token": grant["access_token"],
                "expires_in": ACCESS_TOKEN_LIFETIME_SECONDS,
                "token_type": "Bearer",
            },
            [("Cache-Control", "no-store")],
        )

    def _grant(self, assertion: str, token_uri: str) -> dict[str, Any]:
        parts = assertion.split(".")
        if len(parts) != 3:
            raise OAuthError("invalid_grant", "Invalid JWT: malformed assertion.")
        header, claims = _json_segment(parts[0]), _json_segment(parts[1])
        if header.get("alg") != "RS256":
            raise OAuthError("invalid_grant", "Invalid JWT: the signing algorithm must be RS256.")
        account = self._accounts.get(str(claims.get("iss", "")))
        if account is None:
            raise OAuthError("invalid_grant", "Invalid grant: account not found")
        try:
            signature = _b64url_decode(parts[2])
        except (ValueError, binascii.Error):
            signature = b""
        kid = header.get("kid")
        signed = f"{parts[0]}.{parts[1]}".encode()
        if (
            account.disabled
            or kid not in (None, account.private_key_id)
            or not _rs256_valid(account.public_key_pem, signed, signature)
        ):
            raise OAuthError("invalid_grant", "Invalid JWT Signature.")
        if claims.get("aud") not in (*GOOGLE_TOKEN_AUDIENCES, token_uri):
            raise OAuthError("invalid_grant", "Invalid JWT: Failed audience check.")
        self._check_lifetime(claims)
        scopes = str(claims.get("scope") or "").split()
        if not scopes:
            raise OAuthError("invalid_scope", "Empty or missing scope not allowed.")
        now = time.time()
        access_token = "ya29.sandbox-" + secrets.token_urlsafe(48)
        self._access_tokens[access_token] = AccessToken(
            client_email=account.client_email,
            project_id=account.project_id,
            scopes=scopes,
            expires_at=now + ACCESS_TOKEN_LIFETIME_SECONDS,
        )
        grant = {
            "access_token": access_token,
            "client_email": account.client_email,
            "project_id": account.project_id,
            "private_key_id": kid,
            "scopes": scopes,
            "claims": claims,
            "assertion_verified": True,
            "issued_at": now,
        }
        self._grants.append(grant)
        return grant

    @staticmethod
    def _check_lifetime(claims: dict[str, Any]) -> None:
        issued, expires = claims.get("iat"), claims.get("exp")
        now = time.time()
        if (
            not isinstance(issued, int | float)
            or not isinstance(expires, int | float)
            or expires - issued > MAX_ASSERTION_LIFETIME_SECONDS
            or issued > now + CLOCK_SKEW_SECONDS
            or expires < now - CLOCK_SKEW_SECONDS
        ):
            raise OAuthError(
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                "reasonable timeframe. Check your iat and exp values in the JWT claim.",
            )

    def create_service_account(
        self, project_id: str = "callrix-default", *, base_url: str | None = None
    ) -> dict[str, Any]:
        """A new service account of `project_id` with a fresh RSA key: the JSON a Firebase
        console download holds, with `token_uri` pointing at this sandbox."""
        base = (base_url or self.base_url or "").rstrip("/")
        if not base:
            raise ControlError("Serve the sandbox first (its token_uri needs its address).")
        if not _PROJECT_ID.fullmatch(project_id):
            raise ControlError(f"Invalid project id: {project_id!r}")
        private_pem, public_pem = _new_key()
        email = f"firebase-adminsdk-{secrets.token_hex(3)[:5]}@{project_id}.iam.gserviceaccount.com"
        account = ServiceAccount(
            client_email=email,
            project_id=project_id,
            private_key_id=secrets.token_hex(20),
            public_key_pem=public_pem,
            client_id=str(secrets.randbelow(9 * 10**20) + 10**20),
        )
        with self._lock:
            self._accounts[email] = account
            self._save()
        return {
            "type": "service_account",
            "project_id": project_id,
            "private_key_id": account.private_key_id,
            "private_key": private_pem,
            "client_email": email,
            "client_id": account.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": f"{base}/token",
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": (
                f"https://www.googleapis.com/robot/v1/metadata/x509/{quote(email, safe='')}"
            ),
            "universe_domain": "googleapis.com",
        }

    def disable_service_account(self, client_email: str) -> None:
        """The key is deleted in Google Cloud: assertions fail and issued tokens stop working."""
        with self._lock:
            account = self._accounts.get(client_email)
            if account is None:
                raise ControlError(f"No such service account: {client_email}", 404)
            account.disabled = True
            for token, info in list(self._access_tokens.items()):
                if info.client_email == client_email:
                    del self._access_tokens[token]
            self._save()

    def grants(self, client_email: str | None = None) -> list[dict[str, Any]]:
        """Every access token issued, oldest first, with the verified assertion's claims."""
        with self._lock:
            return [
                copy.deepcopy(grant)
                for grant in self._grants
                if client_email is None or grant["client_email"] == client_email
            ]
