"""Options models as documentation: JSON schema with defaults and descriptions, field tables.

A field's description is its ``Field(description=...)``, else the docstring written under it
(``x: int = 1`` then ``\"\"\"What x does.\"\"\"``), else a ``:param x:`` line of the class docstring.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import textwrap
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined


@dataclass
class FieldDoc:
    """One option: its key, type, default (``None`` + ``required``), description."""

    name: str
    type: str
    default: Any
    required: bool
    description: str
    model: type[BaseModel] | None = None
    """The nested options model, when the field is a section of its own."""


def attribute_docs(model: type) -> dict[str, str]:
    """``{field: docstring}`` from the source of ``model`` and its bases (nearest wins)."""
    docs: dict[str, str] = {}
    for cls in reversed(getattr(model, "__mro__", (model,))):
        if cls in (object, BaseModel) or cls.__module__.startswith("pydantic"):
            continue
        docs.update(_param_docs(inspect.getdoc(cls) or ""))
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
        except (OSError, TypeError, SyntaxError, IndentationError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in zip(body, body[1:]):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)):
                docs[node.target.id] = " ".join(after.value.value.split())
    return docs


def _param_docs(doc: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in re.finditer(r":param ([\w /]+):\s*(.+?)(?=\n\s*:param |\Z)", doc, re.S):
        text = " ".join(match.group(2).split())
        for name in match.group(1).split("/"):
            found[name.strip()] = text
    return found


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    text = text or str(annotation).replace("typing.", "")
    return re.sub(r"\b[\w.]+\.(\w+)", r"\1", text)


def _default(field: Any) -> tuple[Any, bool]:
    if field.is_required():
        return None, True
    if field.default_factory is not None:
        try:
            return field.default_factory(), False
        except TypeError:  # a factory taking the validated data
            return None, False
    return (None if field.default is PydanticUndefined else field.default), False


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _nested(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def field_docs(model: type[BaseModel]) -> list[FieldDoc]:
    """Every field of ``model``, documented (fields excluded from dumps are skipped)."""
    docs = attribute_docs(model)
    fields = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        default, required = _default(field)
        fields.append(FieldDoc(
            name=field.alias or name, type=_type_name(field.annotation), default=_jsonable(default),
            required=required, description=field.description or docs.get(name, ""),
            model=_nested(field.annotation),
        ))
    return fields


def options_schema(model: type | None) -> dict[str, Any]:
    """The JSON schema of a backend's options, descriptions and defaults filled in."""
    if model is None:
        return {"type": "object", "additionalProperties": True,
                "description": "options are handed to the backend as a dict, unchecked by Darwin"}
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return {"type": "object", "description": f"validated by {getattr(model, '__name__', model)}"}
    try:
        schema = model.model_json_schema()
    except Exception as exc:  # noqa: BLE001 - a type pydantic cannot express as schema
        schema = {"type": "object", "title": model.__name__, "note": f"no JSON schema: {exc}"}
    properties = schema.setdefault("properties", {})
    for doc in field_docs(model):
        prop = properties.setdefault(doc.name, {})
        if doc.description and not prop.get("description"):
            prop["description"] = doc.description
        if not doc.required and "default" not in prop:
            prop["default"] = doc.default
    if model.model_config.get("extra") == "forbid":
        schema["additionalProperties"] = False
    return schema
