"""Callrix's record of processing activities on the platform API."""

from __future__ import annotations

from ninja import Router

from compliance.callrix.register import REGISTER, ProcessingRegister

platform_router = Router(tags=["privacy"])


@platform_router.get("/privacy/register", response=ProcessingRegister, auth=None)
def processing_register(request):
    return REGISTER
