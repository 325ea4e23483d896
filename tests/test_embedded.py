"""With DATABASE_URL / REDIS_URL unset, Callrix starts its own PostgreSQL and Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def test_embedded_servers_start_answer_and_are_reused(tmp_path):
    home = tmp_path / "callrix-home"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["CALLRIX_HOME"] = str(home)
    script = textwrap.dedent(
        """
        import os, psycopg, redis
        from callrix import embedded
        embedded.ensure_environment()
        with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
            print("db", conn.execute("SELECT current_database()").fetchone()[0])
            print("locks", conn.execute("SHOW max_locks_per_transaction").fetchone()[0])
        print("redis", redis.Redis.from_url(os.environ["REDIS_URL"]).ping())
        print("url", os.environ["DATABASE_URL"])
        """
    )
    try:
        first = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=180
        )
        assert first.returncode == 0, first.stderr
        assert "db callrix" in first.stdout and "redis True" in first.stdout
        # deploy/compose.yml's lock table: one pg_dump of 1,000 licensee schemas fits.
        assert "locks 2048" in first.stdout
        assert str(home) in first.stdout
        # A second process finds the same running servers instead of starting new ones.
        pid = (home / "pg" / "postmaster.pid").read_text().splitlines()[0]
        second = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=180
        )
        assert second.returncode == 0, second.stderr
        assert (home / "pg" / "postmaster.pid").read_text().splitlines()[0] == pid
    finally:
        subprocess.run(
            [sys.executable, "-c", "from callrix import embedded; embedded.stop()"],
            env=env,
            timeout=120,
            check=False,
        )
    assert not (home / "pg" / "postmaster.pid").exists()
