"""The FCM sandbox, driven through firebase-admin by the product's gateway as it drives FCM,
and through plain HTTP where the SDK would refuse to send what FCM must refuse."""

from __future__ import annotations

import base64
import json
import secrets
import socket
import time
import urllib.error
import urllib.request

import firebase_admin
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from google.auth.transport.requests import Request as GoogleRequest
from google.oauth2 import service_account

from sandboxes.fcm_sandbox import FcmSandbox, serve
from tenant_apps.notifications import fcm_gateway
from tenant_apps.notifications.errors import InvalidFirebaseCredentials

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"

# The gateway still targets registration tokens; see the comment in fcm_gateway._message.
pytestmark = pytest.mark.filterwarnings("ignore:Message.token is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def served():
    sandbox = FcmSandbox()
    server, base_url = serve(sandbox=sandbox)
    yield sandbox, base_url
    server.shutdown()


@pytest.fixture
def sandbox(served, settings) -> FcmSandbox:
    """The sandbox, with the product's FCM_API_BASE pointed at it and no default key."""
    sandbox, base_url = served
    settings.FCM_API_BASE = base_url
    settings.FCM_DEFAULT_CREDENTIALS = ""
    sandbox.fail_next(0)
    return sandbox


@pytest.fixture
def base_url(served) -> str:
    return served[1]


def _project() -> str:
    return f"aurora-{secrets.token_hex(4)}"


def _device() -> str:
    return f"device-{secrets.token_urlsafe(24)}"


@pytest.fixture
def account(sandbox) -> dict:
    return sandbox.create_service_account(_project())


@pytest.fixture
def credentials_json(account) -> str:
    return json.dumps(account)


def _http(method: str, url: str, data=None, headers: dict | None = None) -> tuple[int, dict]:
    if isinstance(data, bytes | None):
        body = data
    else:
        body = json.dumps(data).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _access_token(account: dict) -> str:
    """An access token fetched by google-auth itself, as firebase-admin fetches it."""
    creds = service_account.Credentials.from_service_account_info(account, scopes=[FCM_SCOPE])
    creds.refresh(GoogleRequest())
    return creds.token


def _fcm_send(base_url: str, project_id: str, token: str, body) -> tuple[int, dict]:
    return _http(
        "POST",
        f"{base_url}/v1/projects/{project_id}/messages:send",
        body,
        {"Authorization": f"Bearer {token}"},
    )


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _assertion(account: dict, private_pem: str, **claims) -> str:
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "kid": account["private_key_id"]}
    payload = {
        "iss": account["client_email"],
        "aud": "https://oauth2.googleapis.com/token",
        "scope": FCM_SCOPE,
        "iat": now,
        "exp": now + 3600,
        **claims,
    }
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def _token_request(base_url: str, assertion: str) -> tuple[int, dict]:
    form = (
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + assertion
    ).encode()
    return _http(
        "POST",
        f"{base_url}/token",
        form,
        {"Content-Type": "application/x-www-form-urlencoded"},
    )


# ---------------------------------------------------------------------------------------------
# push_send through firebase-admin


def test_high_priority_data_push_reaches_the_sandbox(sandbox, account, credentials_json):
    device = _device()
    before = int(time.time())

    result = fcm_gateway.push_send(
        credentials_json=credentials_json,
        token=device,
        data={"type": "call.ringing", "call_id": "42"},
        high_priority=True,
        ttl_seconds=30,
        collapse_key="call-42",
    )

    assert result.status == "sent"
    assert result.error is None
    [record] = sandbox.messages(token=device)
    assert result.message_id == record["name"]
    assert record["name"].startswith(f"projects/{account['project_id']}/messages/")
    assert record["client_email"] == account["client_email"]
    message = record["message"]
    assert message["data"] == {"type": "call.ringing", "call_id": "42"}
    assert "notification" not in message
    assert message["android"] == {"priority": "high", "ttl": "30s", "collapse_key": "call-42"}
    headers = message["apns"]["headers"]
    # Data only: an iOS background push, which Apple accepts at priority 5 only.
    assert headers["apns-push-type"] == "background"
    assert headers["apns-priority"] == "5"
    assert headers["apns-collapse-id"] == "call-42"
    assert before + 30 <= int(headers["apns-expiration"]) <= int(time.time()) + 30
    assert message["apns"]["payload"] == {"aps": {"content-available": 1}}


def test_high_priority_push_with_a_notification_is_an_immediate_alert(sandbox, credentials_json):
    device = _device()
    result = fcm_gateway.push_send(
        credentials_json=credentials_json,
        token=device,
        data={"call_id": "7"},
        high_priority=True,
        ttl_seconds=20,
        notification={"title": "Incoming call", "body": "Maya is calling"},
    )

    assert result.status == "sent"
    [record] = sandbox.messages(token=device)
    message = record["message"]
    assert message["notification"] == {"title": "Incoming call", "body": "Maya is calling"}
    assert message["apns"]["headers"]["apns-push-type"] == "alert"
    assert message["apns"]["headers"]["apns-priority"] == "10"
    assert "payload" not in message["apns"]
    assert message["android"]["priority"] == "high"
    assert message["android"]["ttl"] == "20s"


def test_normal_push_has_normal_priority_and_the_default_ttl(sandbox, credentials_json):
    device = _device()
    result = fcm_gateway.push_send(
        credentials_json=credentials_json, token=device, data={"type": "balance.low"}
    )

    assert result.status == "sent"
    message = sandbox.messages(token=device)[0]["message"]
    assert message["android"] == {"priority": "normal", "ttl": "3600s"}
    assert message["apns"]["headers"]["apns-priority"] == "5"


def test_the_oauth_exchange_uses_a_verified_assertion_once(sandbox, account, credentials_json):
    for _ in range(2):
        result = fcm_gateway.push_send(
            credentials_json=credentials_json, token=_device(), data={"n": "1"}
        )
        assert result.status == "sent"

    [grant] = sandbox.grants(client_email=account["client_email"])
    assert grant["assertion_verified"] is True
    assert grant["project_id"] == account["project_id"]
    assert grant["private_key_id"] == account["private_key_id"]
    assert grant["claims"]["iss"] == account["client_email"]
    assert grant["claims"]["exp"] - grant["claims"]["iat"] <= 3600
    assert "https://www.googleapis.com/auth/cloud-platform" in grant["scopes"]
    # The same access token carried both sends: firebase-admin's app is reused.
    assert len(sandbox.messages(project_id=account["project_id"])) == 2


def test_a_key_the_sandbox_did_not_issue_fails_the_push(sandbox, account, credentials_json):
    impostor = sandbox.create_service_account(_project())
    forged = {**account, "private_key": impostor["private_key"]}

    result = fcm_gateway.push_send(
        credentials_json=json.dumps(forged), token=_device(), data={"x": "1"}
    )

    assert result.status == "failed"
    assert "Invalid JWT Signature" in result.error
    assert sandbox.grants(client_email=account["client_email"]) == []
    assert sandbox.messages(project_id=account["project_id"]) == []


def test_a_deleted_key_fails_the_push_instead_of_raising(sandbox, account, credentials_json):
    assert (
        fcm_gateway.push_send(
            credentials_json=credentials_json, token=_device(), data={"x": "1"}
        ).status
        == "sent"
    )
    sandbox.disable_service_account(account["client_email"])

    result = fcm_gateway.push_send(
        credentials_json=credentials_json, token=_device(), data={"x": "1"}
    )

    assert result.status == "failed"
    assert "RefreshError" in result.error


def test_unregistered_token(sandbox, credentials_json):
    device = _device()
    sandbox.unregister(device)

    result = fcm_gateway.push_send(credentials_json=credentials_json, token=device, data={})

    assert result.status == "unregistered"
    assert result.message_id is None
    assert sandbox.messages(token=device) == []


def test_invalid_token(sandbox, credentials_json):
    device = _device()
    sandbox.invalidate(device)

    result = fcm_gateway.push_send(credentials_json=credentials_json, token=device, data={})

    assert result.status == "invalid"
    assert "not a valid FCM registration token" in result.error


def test_a_refused_message_fails_without_blaming_the_token(sandbox, credentials_json):
    result = fcm_gateway.push_send(
        credentials_json=credentials_json, token=_device(), data={"from": "advisor"}
    )

    assert result.status == "failed"
    assert "reserved" in result.error


def test_empty_token_is_invalid_without_a_call(sandbox, credentials_json):
    assert fcm_gateway.push_send(credentials_json=credentials_json, token="", data={}).status == (
        "invalid"
    )


def test_service_outage_fails(sandbox, credentials_json):
    device = _device()
    sandbox.fail_next(2)  # the first attempt and the gateway's one retry

    result = fcm_gateway.push_send(credentials_json=credentials_json, token=device, data={})

    assert result.status == "failed"
    assert "UnavailableError" in result.error
    assert sandbox.messages(token=device) == []


def test_one_unavailable_answer_is_retried(sandbox, credentials_json):
    device = _device()
    sandbox.fail_next(1)

    result = fcm_gateway.push_send(credentials_json=credentials_json, token=device, data={})

    assert result.status == "sent"
    assert len(sandbox.messages(token=device)) == 1


def test_fcm_api_base_is_read_at_call_time(sandbox, settings, credentials_json):
    device = _device()
    assert fcm_gateway.push_send(
        credentials_json=credentials_json, token=device, data={}
    ).status == ("sent")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.FCM_API_BASE = f"http://127.0.0.1:{closed_port}"

    result = fcm_gateway.push_send(credentials_json=credentials_json, token=device, data={})

    assert result.status == "failed"
    assert len(sandbox.messages(token=device)) == 1


def test_each_licensee_key_has_its_own_app_and_project(sandbox):
    first = sandbox.create_service_account(_project())
    second = sandbox.create_service_account(_project())
    device = _device()

    for account in (first, second):
        result = fcm_gateway.push_send(
            credentials_json=json.dumps(account), token=device, data={"for": account["project_id"]}
        )
        assert result.status == "sent"
        assert result.message_id.startswith(f"projects/{account['project_id']}/")

    names = {fcm_gateway.app_name(json.dumps(account)) for account in (first, second)}
    assert len(names) == 2
    for account in (first, second):
        app = firebase_admin.get_app(fcm_gateway.app_name(json.dumps(account)))
        assert app.project_id == account["project_id"]
        [record] = sandbox.messages(project_id=account["project_id"])
        assert record["message"]["data"] == {"for": account["project_id"]}
        assert record["client_email"] == account["client_email"]
    # The same key, formatted differently, is the same app.
    assert fcm_gateway.app_name(json.dumps(first, indent=2)) == fcm_gateway.app_name(
        json.dumps(first)
    )


def test_default_credentials_from_json_or_a_path(sandbox, settings, tmp_path):
    inline = sandbox.create_service_account(_project())
    settings.FCM_DEFAULT_CREDENTIALS = json.dumps(inline)
    assert fcm_gateway.push_send(credentials_json=None, token=_device(), data={}).status == "sent"
    assert len(sandbox.messages(project_id=inline["project_id"])) == 1

    on_disk = sandbox.create_service_account(_project())
    path = tmp_path / "firebase.json"
    path.write_text(json.dumps(on_disk))
    settings.FCM_DEFAULT_CREDENTIALS = str(path)
    assert fcm_gateway.push_send(credentials_json="", token=_device(), data={}).status == "sent"
    assert len(sandbox.messages(project_id=on_disk["project_id"])) == 1


def test_no_credentials_at_all_fails(sandbox):
    result = fcm_gateway.push_send(credentials_json=None, token=_device(), data={})

    assert result.status == "failed"
    assert "FCM_DEFAULT_CREDENTIALS" in result.error


def test_non_string_data_is_a_programming_error(sandbox, credentials_json):
    with pytest.raises(ValueError):
        fcm_gateway.push_send(credentials_json=credentials_json, token=_device(), data={"n": 1})


# ---------------------------------------------------------------------------------------------
# credentials_validate


def test_credentials_validate_returns_the_project_id(account, credentials_json):
    assert fcm_gateway.credentials_validate(credentials_json) == account["project_id"]


@pytest.mark.parametrize(
    ("make", "phrase"),
    [
        (lambda account: "{not json", "not valid JSON"),
        (lambda account: "", "empty"),
        (lambda account: json.dumps([account]), "JSON object"),
        (lambda account: json.dumps({**account, "type": "authorized_user"}), "service-account"),
        (
            lambda account: json.dumps(
                {k: v for k, v in account.items() if k not in ("private_key", "client_email")}
            ),
            "lack private_key, client_email",
        ),
        (lambda account: json.dumps({**account, "project_id": ""}), "lack project_id"),
        (
            lambda account: json.dumps({**account, "private_key": "-----BEGIN PRIVATE KEY-----"}),
            "private key",
        ),
    ],
)
def test_credentials_validate_refuses(account, make, phrase):
    with pytest.raises(InvalidFirebaseCredentials) as refused:
        fcm_gateway.credentials_validate(make(account))

    error = refused.value
    assert phrase in error.detail
    assert error.status_code == 422
    assert error.as_json()["code"] == "invalid_firebase_credentials"
    assert error.as_json()["field"] == "credentials"


# ---------------------------------------------------------------------------------------------
# The sandbox over HTTP


def test_unregistered_answer_is_fcms_own(sandbox, base_url, account):
    device = _device()
    sandbox.unregister(device)

    status, body = _fcm_send(
        base_url, account["project_id"], _access_token(account), {"message": {"token": device}}
    )

    assert status == 404
    assert body == {
        "error": {
            "code": 404,
            "message": "Requested entity was not found.",
            "status": "NOT_FOUND",
            "details": [
                {
                    "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                    "errorCode": "UNREGISTERED",
                }
            ],
        }
    }


@pytest.mark.parametrize(
    ("message", "phrase"),
    [
        ({"data": {"a": "b"}}, "Recipient of the message is not set"),
        ({"token": "t", "topic": "news"}, "oneof field 'target' is already set"),
        ({"token": "t", "data": {"n": 1}}, "message.data[0].value"),
        ({"token": "t", "data": {"from": "x"}}, "reserved"),
        ({"token": "t", "android": {"priority": "urgent"}}, "message.android.priority"),
        ({"token": "t", "android": {"ttl": "30"}}, "message.android.ttl"),
        ({"token": "t", "android": {"ttl": "9999999s"}}, "four weeks"),
        ({"token": "t", "apns": {"headers": {"apns-priority": "7"}}}, "apns-priority"),
        ({"token": "t", "apns": {"headers": {"apns-push-type": "voip"}}}, "VoIP"),
        (
            {
                "token": "t",
                "apns": {
                    "headers": {"apns-push-type": "background", "apns-priority": "10"},
                    "payload": {"aps": {"content-available": 1}},
                },
            },
            "priority to 5",
        ),
        ({"token": "t", "colour": "red"}, 'Unknown name "colour"'),
        ({"token": "t", "data": {"big": "x" * 5000}}, "too big"),
    ],
)
def test_fcm_refuses_malformed_messages(sandbox, base_url, account, message, phrase):
    status, body = _fcm_send(
        base_url, account["project_id"], _access_token(account), {"message": message}
    )

    assert status == 400
    assert body["error"]["status"] == "INVALID_ARGUMENT"
    assert phrase in body["error"]["message"]
    assert sandbox.messages(project_id=account["project_id"]) == []


def test_fcm_accepts_camel_case_and_validate_only(sandbox, base_url, account):
    token = _access_token(account)
    message = {"token": "t", "android": {"collapseKey": "c", "priority": "HIGH", "ttl": "1.5s"}}

    status, body = _fcm_send(
        base_url, account["project_id"], token, {"message": message, "validate_only": True}
    )
    assert (status, body["name"]) == (
        200,
        f"projects/{account['project_id']}/messages/fake_message_id",
    )
    assert sandbox.messages(project_id=account["project_id"]) == []

    status, body = _fcm_send(base_url, account["project_id"], token, {"message": message})
    assert status == 200
    assert sandbox.messages(project_id=account["project_id"])[0]["name"] == body["name"]


def test_fcm_accepts_an_installation_id_target(sandbox, base_url, account):
    fid, stale = _device(), _device()
    sandbox.unregister(stale)
    token = _access_token(account)

    status, _ = _fcm_send(base_url, account["project_id"], token, {"message": {"fid": fid}})
    assert status == 200
    assert sandbox.messages(token=fid)[0]["message"] == {"fid": fid}

    status, body = _fcm_send(base_url, account["project_id"], token, {"message": {"fid": stale}})
    assert (status, body["error"]["details"][0]["errorCode"]) == (404, "UNREGISTERED")


def test_fcm_requires_a_bearer_token_for_its_own_project(sandbox, base_url, account):
    body = {"message": {"token": "t"}}
    status, answer = _http("POST", f"{base_url}/v1/projects/x-project/messages:send", body)
    assert (status, answer["error"]["status"]) == (401, "UNAUTHENTICATED")

    status, answer = _fcm_send(base_url, account["project_id"], "ya29.made-up", body)
    assert (status, answer["error"]["status"]) == (401, "UNAUTHENTICATED")

    status, answer = _fcm_send(base_url, "other-project", _access_token(account), body)
    assert (status, answer["error"]["status"]) == (403, "PERMISSION_DENIED")


def test_token_endpoint_verifies_the_assertion(sandbox, base_url, account):
    impostor = sandbox.create_service_account(_project())

    status, answer = _token_request(base_url, _assertion(account, account["private_key"]))
    assert status == 200
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == 3600
    assert answer["access_token"].startswith("ya29.")

    status, answer = _token_request(base_url, _assertion(account, impostor["private_key"]))
    assert (status, answer) == (
        400,
        {"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
    )

    too_long = _assertion(account, account["private_key"], exp=int(time.time()) + 7200)
    status, answer = _token_request(base_url, too_long)
    assert (status, answer["error"]) == (400, "invalid_grant")
    assert "short-lived" in answer["error_description"]

    wrong_audience = _assertion(account, account["private_key"], aud="https://example.test/")
    status, answer = _token_request(base_url, wrong_audience)
    assert (status, answer["error"]) == (400, "invalid_grant")

    status, answer = _http(
        "POST",
        f"{base_url}/token",
        b"grant_type=client_credentials",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (status, answer["error"]) == (400, "unsupported_grant_type")


def test_http_control_endpoints(sandbox, base_url):
    status, account = _http(
        "POST", f"{base_url}/_sandbox/service-accounts", {"project_id": "ctl-proj"}
    )
    assert status == 200
    assert account["type"] == "service_account"
    assert account["token_uri"] == f"{base_url}/token"
    assert account["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    for name in ("private_key_id", "client_email", "client_id", "auth_uri", "universe_domain"):
        assert account[name]
    credentials_json = json.dumps(account)

    stale, broken = _device(), _device()
    assert _http("POST", f"{base_url}/_sandbox/unregister", {"token": stale})[0] == 200
    assert _http("POST", f"{base_url}/_sandbox/invalidate", {"token": broken})[0] == 200
    assert fcm_gateway.push_send(
        credentials_json=credentials_json, token=stale, data={}
    ).status == ("unregistered")
    assert fcm_gateway.push_send(
        credentials_json=credentials_json, token=broken, data={}
    ).status == ("invalid")

    assert _http("POST", f"{base_url}/_sandbox/fail-next", {"n": 2})[0] == 200
    assert fcm_gateway.push_send(
        credentials_json=credentials_json, token=stale, data={}
    ).status == ("failed")

    device = _device()
    assert fcm_gateway.push_send(
        credentials_json=credentials_json, token=device, data={"k": "v"}
    ).status == ("sent")
    status, listed = _http("GET", f"{base_url}/_sandbox/messages?token={device}")
    assert status == 200
    [record] = listed["messages"]
    assert record["project_id"] == "ctl-proj"
    assert record["message"]["data"] == {"k": "v"}

    status, grants = _http(
        "GET", f"{base_url}/_sandbox/grants?client_email={account['client_email']}"
    )
    assert status == 200 and len(grants["grants"]) == 1

    assert _http("POST", f"{base_url}/_sandbox/unregister", {})[0] == 400
    assert _http("GET", f"{base_url}/_sandbox/nothing-here")[0] == 404


def test_state_file_keeps_service_accounts_across_restarts(tmp_path):
    state = tmp_path / "fcm.json"
    first, _ = serve(sandbox=FcmSandbox(state_file=state))
    try:
        account = first.sandbox.create_service_account(_project())
    finally:
        first.shutdown()

    second, second_url = serve(sandbox=FcmSandbox(state_file=state))
    try:
        status, _ = _token_request(second_url, _assertion(account, account["private_key"]))
        assert status == 200
    finally:
        second.shutdown()
