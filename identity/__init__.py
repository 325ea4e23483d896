"""Accounts. The one app whose tables live in both the public schema (Callrix staff, licensee
account holders) and every licensee schema (end users, advisors, licensee admins) — like
django.contrib.auth, which it extends. It imports neither side."""
