from kernel.errors import DomainError


class PromotionError(DomainError):
    pass


class PromotionInvalid(PromotionError):
    """The admin's promotion is not well formed."""

    status_code = 422
    code = "invalid_promotion"


class PromotionCodeTaken(PromotionError):
    status_code = 409
    code = "promo_code_taken"


class PromoCodeRefused(PromotionError):
    """An end user's code does not apply (unknown, out of its window, not for this)."""

    status_code = 422
    code = "promo_code_invalid"


class PromoCodeUsedUp(PromotionError):
    """The code's limit, for this user or in total, is reached."""

    status_code = 409
    code = "promo_code_used"
