"""What the production image is made of, read from the repository: pyproject.toml's requirement
lists, deploy/requirements.lock, the Dockerfile's stages, the files its dockerignore leaves in
the build context, and the third-party modules the code imports. The tests of deploy/ share
these readers."""

from __future__ import annotations

import ast
import os
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import cache
from importlib import metadata
from pathlib import Path, PurePosixPath

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
# pip's own tools: never pinned by the lock (deploy/lock-requirements leaves them out).
INSTALLERS = {"pip", "setuptools", "wheel"}
# Folders no code of ours lives in (virtualenvs, npm, build output, runtime data).
NOT_SOURCE = {".git", ".venv", "node_modules", "__pycache__", ".callrix", "build", "dist"}


# --- pyproject.toml and the lock ------------------------------------------------------------


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirements(group: str = "runtime") -> list[Requirement]:
    """`runtime` ([project.dependencies]) or an extra's list, with the extras it names of
    Callrix itself (`callrix[demo]`) spelled out."""
    meta = project()
    listed = meta["dependencies"] if group == "runtime" else meta["optional-dependencies"][group]
    found: list[Requirement] = []
    for requirement in map(Requirement, listed):
        if canonicalize_name(requirement.name) == canonicalize_name(meta["name"]):
            for extra in sorted(requirement.extras):
                found += requirements(extra)
        else:
            found.append(requirement)
    return found


def names(listed: Iterable[Requirement]) -> set[str]:
    return {canonicalize_name(requirement.name) for requirement in listed}


def locked_versions(text: str | None = None) -> dict[str, str]:
    text = (DEPLOY / "requirements.lock").read_text() if text is None else text
    locked = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            locked[canonicalize_name(name)] = version.strip()
    return locked


def pulled(listed: Iterable[Requirement]) -> set[str]:
    """Every distribution `pip install` of these requirements brings, as the installed packages'
    metadata says (markers evaluated for this interpreter, as the image's Python evaluates
    them: both are CPython 3.11 on Linux)."""
    seen: set[str] = set()
    queue = [(requirement, frozenset(requirement.extras)) for requirement in listed]
    while queue:
        requirement, extras = queue.pop()
        name = canonicalize_name(requirement.name)
        key = name + "[" + ",".join(sorted(extras)) + "]"
        if key in seen:
            continue
        seen.add(key)
        try:
            required = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            raise AssertionError(f"{name} is not installed: run scripts/bootstrap dev") from None
        for line in required:
            needed = Requirement(line)
            if needed.marker is None or any(
                needed.marker.evaluate({**default_environment(), "extra": extra})
                for extra in ("", *extras)
            ):
                queue.append((needed, frozenset(needed.extras)))
    return {key.partition("[")[0] for key in seen}


# --- The Dockerfile and its build context --------------------------------------------------


def dockerfile_stages(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(stage name, text) per FROM of a Dockerfile."""
    stages, current, name = [], [], ""
    for line in path.read_text().splitlines():
        found = re.match(r"^FROM\s+\S+(?:\s+AS\s+(\S+))?", line, re.IGNORECASE)
        if found:
            if current:
                stages.append((name, "\n".join(current)))
            name, current = found.group(1) or "", []
        current.append(line)
    stages.append((name, "\n".join(current)))
    return [stage for stage in stages if stage[1].lstrip().upper().startswith("FROM")]


def dockerfile_instructions(stage: str) -> list[str]:
    """A stage's instructions, continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", stage)
    return [line.strip() for line in joined.splitlines() if line.strip()[:1] not in ("", "#")]


def dockerignore_patterns(text: str | None = None) -> list[str]:
    text = DOCKERIGNORE.read_text() if text is None else text
    return [
        line.strip().strip("/")
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def dockerignored(relative: str, patterns: list[str] | None = None) -> bool:
    """Whether the build context leaves `relative` (a path from the repository root) out: a
    pattern that matches the path or one of its folders excludes it; `**/` also matches at the
    root. (fnmatch's `*` also crosses `/`, a little wider than Docker's: no pattern here relies
    on the difference.)"""
    patterns = dockerignore_patterns() if patterns is None else patterns
    path = PurePosixPath(relative)
    candidates = [str(path), *(str(parent) for parent in path.parents if str(parent) != ".")]
    for pattern in patterns:
        shapes = {pattern, pattern.removeprefix("**/")}
        if any(fnmatch(candidate, shape) for candidate in candidates for shape in shapes):
            return True
    return False


def source_files(suffix: str = ".py") -> Iterator[str]:
    """Every source file of the repository (relative, posix), virtualenvs and build output
    aside."""
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = sorted(
            name for name in subfolders if name not in NOT_SOURCE and not name.endswith(".egg-info")
        )
        for name in sorted(files):
            if name.endswith(suffix):
                yield Path(folder, name).relative_to(ROOT).as_posix()


# --- Imports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    module: str  # the most precise module name the statement names (`livekit.api` for
    # `from livekit import api`)
    line: int
    at_import_time: bool  # False inside a function: runs only when that is called
    guarded: bool  # inside `try: … except ImportError` (an optional import)


def first_party() -> dict[str, Path]:
    """Our top-level packages and where they are (the repository root and platform/)."""
    return {
        folder.name: folder
        for base in (ROOT, ROOT / "platform")
        for folder in sorted(base.iterdir())
        if (folder / "__init__.py").is_file()
    }


def imports(source: str) -> list[Import]:
    """Every absolute import of a module's source, `if TYPE_CHECKING:` blocks aside."""
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool, guarded: bool) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child, in_function, guarded)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(alias.name, node.lineno, not in_function, guarded))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                module = node.module if alias.name == "*" else f"{node.module}.{alias.name}"
                found.append(Import(module, node.lineno, not in_function, guarded))
        if isinstance(node, ast.Try) and any(
            handler.type is not None
            and {"ImportError", "ModuleNotFoundError"}
            & set(re.findall(r"\w+", ast.unparse(handler.type)))
            for handler in node.handlers
        ):
            for child in node.body:
                visit(child, in_function, True)
            for child in (*node.handlers, *node.orelse, *node.finalbody):
                visit(child, in_function, guarded)
            return
        nested = in_function or isinstance(
            node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        )
        for child in ast.iter_child_nodes(node):
            visit(child, nested, guarded)

    visit(ast.parse(source), False, False)
    return found


@cache
def module_owners() -> dict[str, str]:
    """Module name -> the installed distribution whose files hold it."""
    owners: dict[str, str] = {}
    for dist in metadata.distributions():
        if not dist.metadata["Name"]:
            continue
        name = canonicalize_name(dist.metadata["Name"])
        for file in dist.files or ():
            parts = PurePosixPath(str(file)).parts
            if not parts or parts[0] == ".." or parts[0].endswith((".dist-info", ".data")):
                continue
            last = parts[-1]
            if last.endswith(".py"):
                stem = last[: -len(".py")]
            elif last.endswith((".so", ".pyd")):
                stem = last.split(".", 1)[0]
            else:
                continue
            dotted = [*parts[:-1], stem] if stem != "__init__" else list(parts[:-1])
            if dotted and all(part.isidentifier() for part in dotted):
                owners.setdefault(".".join(dotted), name)
    return owners


def owner(module: str) -> str | None:
    """The distribution that provides `module` (or the longest package of it that one does:
    `google.auth.exceptions` -> google-auth, `livekit.api.RoomService` -> livekit-api)."""
    owners = module_owners()
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        found = owners.get(".".join(parts[:end]))
        if found:
            return found
    return None


def is_third_party(module: str) -> bool:
    top = module.partition(".")[0]
    return top not in sys.stdlib_module_names and top != "__future__" and top not in first_party()


def first_party_file(module: str) -> str | None:
    """The repository file (relative) a first-party module name resolves to, if it exists."""
    top, _, rest = module.partition(".")
    base = first_party().get(top)
    if base is None:
        return None
    parts = rest.split(".") if rest else []
    for end in range(len(parts), -1, -1):
        stem = base.joinpath(*parts[:end])
        candidates = (
            [stem.with_suffix(".py"), stem / "__init__.py"] if end else [stem / "__init__.py"]
        )
        for candidate in candidates:
            if candidate.is_file():
                return candidate.relative_to(ROOT).as_posix()
    return None
