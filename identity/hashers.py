from django.contrib.auth.hashers import BCryptSHA256PasswordHasher


class BCryptCost12PasswordHasher(BCryptSHA256PasswordHasher):
    """BCrypt at cost factor 12, as the privacy policy promises (§10). Keeps Django's
    `bcrypt_sha256` name so hashes stay readable by the stock hasher; a hash made with
    another cost or algorithm is upgraded at the next successful login."""

    rounds = 12
