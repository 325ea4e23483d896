"""The production image (deploy/Dockerfile) installs exactly the lock, compiles the German
translations with a pinned polib it does not ship, and leaves the demo-only code out. Docker
cannot run here, so the Dockerfile is read; the compile command it runs is run for real."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
import sys

import polib
from packaging.version import Version

from tests.deploy.image import (
    ROOT,
    dockerfile_instructions,
    dockerfile_stages,
    dockerignored,
    requirements,
    source_files,
)

VENV = "/opt/venv"


def _stage(name: str) -> list[str]:
    return dockerfile_instructions(dict(dockerfile_stages())[name])


def _pip_installs(instructions: list[str]) -> list[str]:
    return [
        command.strip()
        for line in instructions
        if line.startswith("RUN")
        for command in re.split(r"&&|;", line.removeprefix("RUN"))
        if re.search(r"\bpip install\b", command)
    ]


def test_the_virtualenv_gets_the_lock_and_callrix_without_its_dependencies():
    build = _stage("python-build")
    assert "COPY deploy/requirements.lock /tmp/requirements.lock" in build
    assert f"RUN python -m venv {VENV}" in build
    assert any(line.startswith("ENV") and f"PATH={VENV}/bin:" in line for line in build)
    installs = _pip_installs(build)
    # Into the virtualenv (the `pip` on PATH): the lock, then Callrix with no dependencies of
    # its own to resolve, so nothing unpinned gets in. Anything else goes elsewhere (--target).
    into_venv = [command for command in installs if "--target" not in command]
    assert into_venv == ["pip install -r /tmp/requirements.lock", "pip install --no-deps -e /app"]


def _translation_step() -> tuple[str, str]:
    """(the RUN that compiles the translations, the build tools folder it puts polib in)."""
    build = _stage("python-build")
    runs = [line for line in build if line.startswith("RUN") and "-m callrix.translations" in line]
    assert runs, (
        "the build stage does not compile the translations (python -m callrix.translations)"
    )
    run = runs[0]
    tools = re.search(r'pip install --target (\S+) "polib==\$\{POLIB_VERSION\}"', run)
    assert tools, f"polib is not installed pinned, apart from the virtualenv: {run}"
    return run, tools.group(1)


def test_the_build_stage_compiles_the_translations_with_a_pinned_polib_it_keeps():
    build = _stage("python-build")
    run, tools = _translation_step()
    assert not tools.startswith(VENV), "polib must stay out of the virtualenv the image ships"
    assert f"PYTHONPATH={tools} python -m callrix.translations /app" in run
    # After the source is in place, and it fails the build when no German catalogue came out.
    assert build.index(run) > build.index("RUN pip install --no-deps -e /app")
    assert "locale/de/LC_MESSAGES/django.mo" in run
    pinned = next(filter(None, (re.fullmatch(r"ARG POLIB_VERSION=(\S+)", line) for line in build)))
    polib = next(r for r in requirements("demo") if r.name == "polib")
    assert polib.specifier.contains(Version(pinned.group(1))), "the image's polib is not the demo's"
    runtime = _stage("runtime")
    copied = [line for line in runtime if line.startswith("COPY --from=python-build")]
    assert copied == [
        f"COPY --from=python-build {VENV} {VENV}",
        "COPY --from=python-build /app /app",
    ]


def test_the_image_s_compile_command_writes_german_catalogues_django_reads(tmp_path):
    run, _ = _translation_step()
    module = re.search(r"python -m ([\w.]+) /app\b", run).group(1)
    # The catalogues the build context has (the .mo files are left out of it).
    catalogues = [path for path in source_files(".po") if not dockerignored(path)]
    assert any("/locale/de/" in path for path in catalogues)
    for path in catalogues:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, tmp_path / path)
    assert not list(tmp_path.rglob("*.mo"))
    subprocess.run([sys.executable, "-m", module, str(tmp_path)], check=True, cwd=tmp_path)
    for path in catalogues:
        po = polib.pofile(str(ROOT / path))
        with (tmp_path / path).with_suffix(".mo").open("rb") as file:
            compiled = gettext.GNUTranslations(file)
        entry = next(
            e for e in po.translated_entries() if not e.msgid_plural and e.msgid != e.msgstr
        )
        if entry.msgctxt:  # a msgid told apart by its context is looked up with it
            assert compiled.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr, path
        else:
            assert compiled.gettext(entry.msgid) == entry.msgstr, path


def test_the_build_context_leaves_out_the_demo_the_tests_and_compiled_catalogues():
    for path in (
        "sandboxes/stripe_sandbox.py",
        "platform/demo/apps.py",
        "tests/conftest.py",
        "identity/locale/de/LC_MESSAGES/django.mo",
    ):
        assert dockerignored(path), path
    for path in (
        "platform/callrix/settings.py",
        "platform/callrix/translations.py",
        "identity/locale/de/LC_MESSAGES/django.po",
        "deploy/gunicorn.conf.py",
        "frontend/package.json",
        "pyproject.toml",
    ):
        assert not dockerignored(path), path
