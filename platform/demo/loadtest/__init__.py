"""`callrix loadtest` (scripts/loadtest): the real stack on loopback under a Locust mix, then
the checks that the books survived it. Locust itself runs in its own process from
tests/load/locustfile.py (Locust is a test tool, in the `dev` extra)."""
