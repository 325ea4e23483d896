"""Every change to accounts: registration, passwords, e-mail verification, consents."""

from __future__ import annotations

from datetime import date

from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.signals import user_logged_in
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from branding.mail import EmailAction, branded_email_send
from branding.selectors import brand_current
from identity import tokens
from identity.errors import (
    AccountClosed,
    EmailTaken,
    InvalidCredentials,
    InvalidField,
    InvalidLink,
    LockedOut,
    UnderAge,
)
from identity.lockout import cooloff_seconds, locked_out_body
from identity.models import ConsentRecord, User
from kernel.tenant_connection import connection

ADULT_AGE = 18
VERIFY_EMAIL_SALT = "callrix.identity.verify-email"
VERIFY_EMAIL_MAX_AGE = 3 * 24 * 3600


def _age_on(birth_date: date, today: date) -> int:
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)


def email_check(email: str, field: str = "email") -> str:
    """A normalised, valid e-mail address, or InvalidField naming `field`."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidField("Enter a valid e-mail address.", field=field) from None
    return email


def password_check(password: str, user: User, field: str) -> None:
    """Django's password validators, as a domain error naming `field`."""
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as error:
        raise InvalidField(" ".join(error.messages), field=field) from None


def end_user_register(
    *,
    email: str,
    password: str,
    display_name: str,
    birth_date: date,
    marketing_consent: bool = False,
    origin: str,
) -> User:
    """Open an end-user account. Adults only (the platforms are for 18+); nothing is stored
    for a refused registration."""
    email = email_check(email)
    display_name = (display_name or "").strip()
    if not display_name:
        raise InvalidField("A display name is required.", field="display_name")
    today = timezone.now().date()
    if birth_date > today:
        raise InvalidField("The birth date is in the future.", field="birth_date")
    if _age_on(birth_date, today) < ADULT_AGE:
        raise UnderAge(
            f"You must be at least {ADULT_AGE} years old to register.", field="birth_date"
        )
    candidate = User(email=email, display_name=display_name, birth_date=birth_date)
    password_check(password, candidate, "password")

    with transaction.atomic():
        if User.objects.filter(email=email).exists():
            raise EmailTaken("An account with this e-mail address already exists.", field="email")
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email,
                    password,
                    display_name=display_name,
                    birth_date=birth_date,
                    role=User.Role.END_USER,
                )
        except IntegrityError:
            raise EmailTaken(
                "An account with this e-mail address already exists.", field="email"
            ) from None
        if marketing_consent:
            ConsentRecord.objects.create(
                user=user,
                purpose=ConsentRecord.Purpose.MARKETING,
                granted=True,
                source="registration",
            )
        transaction.on_commit(lambda: email_verification_send(user=user, origin=origin))
    return user


def credentials_authenticate(*, request, email: str, password: str) -> User:
    """Check e-mail and password (through django-axes, which counts failures per account and
    address in this schema) and record the login."""
    user = authenticate(request, username=(email or "").strip().lower(), password=password)
    if getattr(request, "callrix_refused_locked", False):
        # The API answers the lockout itself; the middleware need not rewrite the response.
        request.callrix_refused_locked = False
        error = LockedOut(locked_out_body()["detail"])
        error.retry_after = cooloff_seconds()
        raise error
    if user is None or not user.is_active:
        raise InvalidCredentials("The e-mail address or password is wrong.")
    user_logged_in.send(sender=User, request=request, user=user)
    return user


def profile_update(
    *,
    user: User,
    display_name: str | None = None,
    old_password: str | None = None,
    new_password: str | None = None,
) -> User:
    """Rectify the display name and/or change the password (which needs the current one and
    signs out every other device). All checks come before any write."""
    fields = []
    if display_name is not None:
        display_name = display_name.strip()
        if not display_name:
            raise InvalidField("A display name is required.", field="display_name")
        user.display_name = display_name
        fields.append("display_name")
    if old_password is not None or new_password is not None:
        if not user.check_password(old_password or ""):
            raise InvalidField("The current password is wrong.", field="old_password")
        password_check(new_password or "", user, "new_password")
        user.set_password(new_password)
        fields.append("password")
    with transaction.atomic():
        if fields:
            user.save(update_fields=fields)
        if "password" in fields:
            tokens.refresh_revoke_all(user_id=user.pk)
    return user


def password_reset_link(*, user: User, origin: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = tokens.password_token_generator.make_token(user)
    return f"{origin}/account/set-password/{uid}/{token}/"


def password_reset_request(*, email: str, origin: str) -> None:
    """Mail a reset link if the address has an account. The caller's answer is the same
    either way, so the endpoint cannot be used to find out who has an account."""
    try:
        email = email_check(email)
    except InvalidField:
        return
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None:
        return
    link = password_reset_link(user=user, origin=origin)
    brand = brand_current()
    branded_email_send(
        to=[user.email],
        subject=_("Reset your %(app)s password") % {"app": brand.app_name},
        paragraphs=[
            _("Someone asked to reset the password of your %(app)s account.")
            % {"app": brand.app_name},
            _("If it was not you, ignore this e-mail; your password stays as it is."),
        ],
        action=EmailAction(_("Choose a new password (the link works once)"), link),
        brand=brand,
        origin=origin,
    )


def invitation_send(
    *, user: User, invited_by: User, origin: str, subject: str, paragraph: str
) -> None:
    """Once the caller's transaction commits, mail someone another person added a one-time
    link to choose their password. `subject` and `paragraph` may name %(app)s and %(admin)s."""
    link = password_reset_link(user=user, origin=origin)
    brand = brand_current()
    names = {"app": brand.app_name, "admin": invited_by.display_name or brand.app_name}
    transaction.on_commit(
        lambda: branded_email_send(
            to=[user.email],
            subject=subject % names,
            paragraphs=[paragraph % names],
            action=EmailAction(_("Choose your password (the link works once)"), link),
            brand=brand,
            origin=origin,
        )
    )


def admin_invite(*, email: str, display_name: str, invited_by: User, origin: str) -> User:
    """Add an admin to the licensee's team; they choose a password through a one-time link."""
    email = email_check(email)
    display_name = (display_name or "").strip()
    if not display_name:
        raise InvalidField("A name is required.", field="display_name")
    with transaction.atomic():
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email, None, role=User.Role.ADMIN, display_name=display_name
                )
        except IntegrityError:  # the e-mail is unique: someone has this address already
            raise EmailTaken("An account with this e-mail address exists.", field="email") from None
        invitation_send(
            user=user,
            invited_by=invited_by,
            origin=origin,
            subject=_("You are invited to run %(app)s"),
            paragraph=_("%(admin)s added you to the team that runs %(app)s."),
        )
    return user


def user_from_password_link(*, uid: str, token: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, OverflowError):
        return None
    user = User.objects.filter(pk=pk).first()
    if user is None or not tokens.password_token_generator.check_token(user, token):
        return None
    return user


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    user = user_from_password_link(uid=uid, token=token)
    if user is None:
        raise InvalidLink("This reset link is invalid or was already used.", field="token")
    password_check(new_password, user, "new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        tokens.refresh_revoke_all(user_id=user.pk)
    return user


def email_verification_token(*, user: User) -> str:
    return signing.dumps(
        {"user": user.pk, "email": user.email, "schema": connection.schema_name},
        salt=VERIFY_EMAIL_SALT,
    )


def email_verification_send(*, user: User, origin: str) -> None:
    token = email_verification_token(user=user)
    branded_email_send(
        to=[user.email],
        subject=_("Confirm your e-mail address"),
        paragraphs=[_("Please confirm your e-mail address by opening this link.")],
        action=EmailAction(
            _("Confirm my e-mail address"), f"{origin}/account/verify-email/{token}/"
        ),
        origin=origin,
    )


def email_verify(*, token: str) -> User:
    try:
        claims = signing.loads(token, salt=VERIFY_EMAIL_SALT, max_age=VERIFY_EMAIL_MAX_AGE)
    except signing.BadSignature:
        raise InvalidLink("This verification link is invalid or expired.", field="token") from None
    if claims.get("schema") != connection.schema_name:
        raise InvalidLink("This verification link is invalid or expired.", field="token")
    user = User.objects.filter(pk=claims.get("user"), email=claims.get("email")).first()
    if user is None:
        raise InvalidLink("This verification link is invalid or expired.", field="token")
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return user


def consent_set(*, user: User, purpose: str, granted: bool, source: str = "api") -> ConsentRecord:
    return ConsentRecord.objects.create(user=user, purpose=purpose, granted=granted, source=source)


def user_lock(*, user_id: int) -> User:
    """Lock the person's row for the rest of the caller's transaction and refuse a closed
    account. Everything that moves a person's money or ends their account (erasure, call
    requests, top-ups) takes this lock first, so none can slip between another's check and
    its commit: the second waits, then sees what the first committed."""
    user = User.objects.select_for_update(of=("self",)).filter(pk=user_id).first()
    if user is None or user.erased_at is not None or not user.is_active:
        raise AccountClosed(_("This account is closed."), field=None)
    return user
