"""`callrix export tenant <slug> --out PATH` from the shell."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.compliance.conftest import archive_files, archive_manifest

pytestmark = pytest.mark.django_db


def test_the_command_writes_the_archive_with_a_progress_bar(alpha, tmp_path, capsys):
    out = tmp_path / "alpha.zip"
    stdout = StringIO()
    call_command("export", "tenant", "alpha", "--out", str(out), stdout=stdout)
    files = archive_files(out.read_bytes())
    manifest = archive_manifest(files)
    assert manifest["licensee"]["slug"] == "alpha"
    for entry in manifest["files"]:
        assert hashlib.sha256(files[entry["path"]]).hexdigest() == entry["sha256"]
    assert hashlib.sha256(out.read_bytes()).hexdigest() in stdout.getvalue()
    assert "Exporting alpha" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.part"))


def test_the_command_never_overwrites_and_names_unknown_licensees(alpha, tmp_path):
    out = tmp_path / "taken.zip"
    out.write_bytes(b"keep me")
    with pytest.raises(CommandError, match="already exists"):
        call_command("export", "tenant", "alpha", "--out", str(out), stdout=StringIO())
    assert out.read_bytes() == b"keep me"
    with pytest.raises(CommandError, match="No licensee"):
        call_command("export", "tenant", "nobody", "--out", str(tmp_path / "x.zip"))
