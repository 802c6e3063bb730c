"""Schema post-processing for generated clients (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"], after
drf-spectacular's own enum hook has named the enums of the components).

drf-spectacular leaves a query parameter's enum inline, with a `title` from the filter's label in the language of
the request (`类别` for `category`). openapi-python-client makes a class of each inline enum, named after that
title: a client generated from a Chinese schema has `ProjectsList类别`, one from an English schema
`ProjectsListCategory` — the same API, two incompatible clients, and a second class for what the components
already name `CategoryEnum`. So a parameter's enum with the same values as exactly one component enum refers to
it (named once, whatever the language); any other loses its title (named after the parameter). The same for an
enum written out inside a field's own schema (evaluation's compliance flags): the generator would make a class of
each occurrence.
"""

from typing import Any

METHODS = {"get", "put", "patch", "post", "delete", "head", "options", "trace"}


def _values(schema: dict[str, Any]) -> frozenset[str]:
    return frozenset(str(v) for v in schema["enum"] if v is not None)


#: The keys of a plain enum schema, which a reference to a component can stand for.
_PLAIN_ENUM_KEYS = {"type", "enum", "title", "description"}


def _inline_enums(node: Any, key: str, out: list[tuple[str, dict[str, Any]]]) -> None:
    """Every plain string enum inside NODE (a component's schema), with the property name that holds it."""
    if isinstance(node, list):
        for item in node:
            _inline_enums(item, key, out)
    elif isinstance(node, dict):
        if "enum" in node and node.get("type") == "string" and set(node) <= _PLAIN_ENUM_KEYS:
            out.append((key, node))
            return
        for name, value in node.items():
            if name == "properties" and isinstance(value, dict):
                for prop, schema in value.items():
                    _inline_enums(schema, prop, out)
            else:
                _inline_enums(value, key, out)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def name_parameter_enums(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    components = result.get("components", {}).get("schemas", {})
    by_values: dict[frozenset[str], list[str]] = {}
    for name, component in components.items():
        if "enum" in component:
            by_values.setdefault(_values(component), []).append(name)
    # Enums written out inside a field's own schema (extend_schema_field with a dict) that occur more than once
    # become one component, named after the property (`code` → `CodeEnum`) unless that name is taken.
    inline: list[tuple[str, dict[str, Any]]] = []
    for name, component in components.items():
        if "enum" not in component:
            _inline_enums(component, name, inline)
    counts: dict[frozenset[str], int] = {}
    for _, node in inline:
        counts[_values(node)] = counts.get(_values(node), 0) + 1
    for prop, node in inline:
        values = _values(node)
        if values not in by_values and counts[values] > 1 and f"{_camel(prop)}Enum" not in components:
            components[f"{_camel(prop)}Enum"] = {"type": "string", "enum": list(node["enum"])}
            by_values[values] = [f"{_camel(prop)}Enum"]
        if len(by_values.get(values, [])) == 1:
            node.clear()
            node["$ref"] = f"#/components/schemas/{by_values[values][0]}"
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in METHODS:
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                part = schema.get("items", schema)
                if "enum" not in part:
                    continue
                named = by_values.get(_values(part), [])
                if len(named) == 1 and part.get("type", "string") == result["components"]["schemas"][named[0]].get(
                    "type", "string"
                ):
                    part.clear()
                    part["$ref"] = f"#/components/schemas/{named[0]}"
                else:
                    part.pop("title", None)
    return result
