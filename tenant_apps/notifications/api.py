"""Device registration for the licensee's apps; the Firebase project for its admins."""

from __future__ import annotations

from typing import Literal

from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from identity.auth import ADMIN_ROLES, TokenAuth
from kernel.inputs import Line, Text
from tenant_apps.notifications import selectors, services

router = Router(tags=["devices"])
admin_router = Router(tags=["admin"])


class DeviceIn(Schema):
    token: Line = Field(min_length=1, max_length=4096)
    platform: Literal["android", "ios", "web"]


class DeviceOut(Schema):
    token: str
    platform: str


class FirebaseIn(Schema):
    credentials: Text = Field(min_length=2, max_length=20_000)


class FirebaseOut(Schema):
    configured: bool
    project_id: str | None = None


@router.post("/devices", response={201: DeviceOut}, auth=TokenAuth())
def device_register(request, payload: DeviceIn):
    device = services.device_register(
        user=request.auth, token=payload.token, platform=payload.platform
    )
    return Status(201, {"token": device.token, "platform": device.platform})


@router.delete("/devices/{path:token}", response={204: None}, auth=TokenAuth())
def device_unregister(request, token: Line):
    services.device_unregister(user=request.auth, token=token)
    return Status(204, None)


@admin_router.get(
    "/admin/notifications/firebase", response=FirebaseOut, auth=TokenAuth(roles=ADMIN_ROLES)
)
def firebase_get(request):
    project = selectors.firebase_project_get()
    return {
        "configured": project is not None,
        "project_id": project.project_id if project else None,
    }


@admin_router.put(
    "/admin/notifications/firebase", response=FirebaseOut, auth=TokenAuth(roles=ADMIN_ROLES)
)
def firebase_put(request, payload: FirebaseIn):
    project = services.firebase_project_set(
        credentials_json=payload.credentials, admin=request.auth
    )
    return {"configured": True, "project_id": project.project_id}
