from __future__ import annotations

from kernel.errors import DomainError


class BrandError(DomainError):
    code = "invalid_brand"


class BrandColourContrast(BrandError):
    code = "insufficient_contrast"


class BrandImageInvalid(BrandError):
    code = "invalid_image"


class BrandImageMissing(DomainError):
    status_code = 404
    code = "not_found"
