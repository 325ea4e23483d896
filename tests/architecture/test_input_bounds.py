"""Every input of both APIs is bounded at the edge (kernel.inputs): each integer parameter or
body field has a minimum and a maximum that its column can hold, each free string refuses
NUL (a pattern, an enum or a format that cannot carry one). A new endpoint with a bare `int`
or `str` fails here, before a fuzzer or an attacker finds the 500."""

from __future__ import annotations

import re

import ninja
import pytest

from kernel.inputs import BIGINT_MAX

# Formats pydantic parses into values that cannot carry a control character.
_SAFE_FORMATS = {"date", "date-time", "time", "uuid", "binary", "email"}


def _documents() -> dict[str, dict]:
    from callrix.urls_public import api as platform_api
    from callrix.urls_tenant import api as licensee_api

    return {
        "licensee": licensee_api.get_openapi_schema(path_prefix="/api/v1/"),
        "platform": platform_api.get_openapi_schema(path_prefix="/api/platform/v1/"),
    }


def _refuses_nul(pattern: str) -> bool:
    try:
        return re.search(pattern, "a\x00b") is None and re.search(pattern, "\x00") is None
    except re.error:
        return False


def unbounded_inputs(document: dict) -> list[str]:
    components = document.get("components", {}).get("schemas", {})
    found: list[str] = []

    def walk(schema: dict, where: str, seen: frozenset[str]) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(components[name], f"{where}->{name}", seen | {name})
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for option in schema.get(key, []):
                walk(option, where, seen)
        kind = schema.get("type")
        if kind == "integer":
            low = schema.get("minimum", schema.get("exclusiveMinimum"))
            high = schema.get("maximum", schema.get("exclusiveMaximum"))
            if low is None or high is None or high > BIGINT_MAX or low < -BIGINT_MAX - 1:
                found.append(f"{where}: integer without bounds a column holds")
        elif kind == "number" and "maximum" not in schema and "exclusiveMaximum" not in schema:
            found.append(f"{where}: number without a maximum")
        elif kind == "string":
            if "enum" in schema or "const" in schema or schema.get("format") in _SAFE_FORMATS:
                return
            if not _refuses_nul(schema.get("pattern", "")):
                found.append(f"{where}: string without the NUL rule (kernel.inputs.Line/Text)")
        elif kind == "object":
            for name, prop in schema.get("properties", {}).items():
                walk(prop, f"{where}.{name}", seen)
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):
                walk(extra, f"{where}[*]", seen)
        elif kind == "array":
            walk(schema.get("items", {}), f"{where}[]", seen)

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                where = f"{method.upper()} {path} {parameter['in']} {parameter['name']}"
                walk(parameter["schema"], where, frozenset())
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                walk(content["schema"], f"{method.upper()} {path} body ({media})", frozenset())
    return found


@pytest.mark.parametrize("api", ["licensee", "platform"])
def test_every_integer_is_bounded_and_every_string_refuses_nul(api):
    assert unbounded_inputs(_documents()[api]) == []


def test_the_walker_catches_a_bare_int_and_a_bare_str():
    document = {
        "paths": {
            "/x/{x_id}": {
                "get": {
                    "parameters": [
                        {"in": "path", "name": "x_id", "schema": {"type": "integer"}},
                        {"in": "query", "name": "q", "schema": {"type": "string"}},
                        {
                            "in": "query",
                            "name": "loose",
                            "schema": {"type": "string", "pattern": "^.*$"},
                        },
                    ]
                }
            }
        }
    }
    found = unbounded_inputs(document)
    assert len(found) == 3 and "x_id" in found[0] and " q" in found[1] and "loose" in found[2]


def _our_schemas(base: type) -> list[type]:
    ours = ("identity", "tenant_apps", "tenants", "shared_apps", "compliance", "branding")
    found = []
    for cls in base.__subclasses__():
        if cls.__module__.startswith(ours):
            found.append(cls)
        found.extend(_our_schemas(cls))
    return found


def test_schema_class_names_are_unique_across_the_apis():
    """django-ninja names OpenAPI components by class name: two classes of one name make one
    silently stand for the other in the documents (and in the fuzzer's cases)."""
    _documents()  # imports every API module
    seen: dict[str, str] = {}
    clashes = []
    for cls in set(_our_schemas(ninja.Schema)):
        where = f"{cls.__module__}.{cls.__qualname__}"
        if cls.__name__ in seen and seen[cls.__name__] != where:
            clashes.append(f"{cls.__name__}: {seen[cls.__name__]} and {where}")
        seen[cls.__name__] = where
    assert clashes == []
