"""The OpenAPI 3.1 document of API v1, built from the endpoint table in web/api.py and the
pydantic models in web/api_models.py (whose JSON Schema, draft 2020-12, is what OpenAPI 3.1
uses), so it describes what the code does rather than what someone remembered to write.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache, reduce
from typing import TYPE_CHECKING, Any

from pydantic.json_schema import models_json_schema

from events_app import settings, urls
from events_app.i18n import gettext
from events_app.models import utcnow
from events_app.services.feeds import RenderedFeed, make_etag
from events_app.web import api_models as m

if TYPE_CHECKING:
    from events_app.web.api import Endpoint

REF = "#/components/schemas/{model}"
_ERROR_TEXT = {
    400: "A filter value that cannot be honoured (e.g. a malformed date).",
    404: "No such event, or a page past the last one.",
}
_HEADERS = {
    "ETag": {"description": "Send it back in If-None-Match to get a 304 when unchanged.",
             "schema": {"type": "string"}},
    "Cache-Control": {"schema": {"type": "string"}},
}


def _query_parameters(model: type[m.BaseModel]) -> list[dict[str, Any]]:
    """One OpenAPI parameter per field of a query-string model."""
    schema = model.model_json_schema(by_alias=True, ref_template=REF)
    params = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        # An optional query parameter is absent, never null: keep the non-null branch.
        branches = [b for b in prop.pop("anyOf", []) if b != {"type": "null"}]
        if len(branches) == 1:
            prop.update(branches[0])
        elif branches:
            prop["anyOf"] = branches
        if prop.get("default", 0) is None:
            del prop["default"]
        description = prop.pop("description", "")
        prop.pop("title", None)
        param: dict[str, Any] = {"name": name, "in": "query", "required": False,
                                 "description": description, "schema": prop}
        if prop.get("type") == "array":
            param.update(style="form", explode=True)
        params.append(param)
    return params


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    params = [
        {"name": name, "in": "path", "required": True, "description": text,
         "schema": {"type": "string", "minLength": 1}}
        for name, text in endpoint.path_params
    ]
    if endpoint.query is not None:
        params += _query_parameters(endpoint.query)
    responses: dict[str, Any] = {
        "200": {"description": "OK", "headers": _HEADERS, "content": {
            "application/json": {"schema": {"$ref": REF.format(model=endpoint.response.__name__)}}
        }},
        "304": {"description": "Not modified since the ETag sent in If-None-Match."},
    }
    for status in endpoint.errors:
        responses[str(status)] = {"description": _ERROR_TEXT[status], "content": {
            "application/json": {"schema": {"$ref": REF.format(model="Error")}}
        }}
    return {"operationId": endpoint.name, "summary": endpoint.summary,
            "description": endpoint.description, "parameters": params, "responses": responses}


def _components(endpoints: Iterable[Endpoint]) -> dict[str, Any]:
    models = {e.response for e in endpoints} | {m.Error}
    _, schema = models_json_schema(
        [(model, "serialization") for model in sorted(models, key=lambda x: x.__name__)],
        ref_template=REF,
    )
    return schema["$defs"]


@cache
def _document(endpoints: tuple[Endpoint, ...]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{settings.SITE_NAME} API",
            "version": "1.0.0",
            "description": (
                "Read-only public data about published events: no account or key needed, "
                "CORS open for GET, JSON errors `{\"error\": ..., \"status\": ...}` with a "
                "4xx status, ETag/If-None-Match revalidation. No data about the people who "
                "RSVP'd is ever part of it."
            ),
        },
        "servers": [{"url": urls.absolute("")}],
        "paths": {e.path: {"get": _operation(e)} for e in endpoints},
        "components": {"schemas": _components(endpoints)},
    }


@cache
def rendered(endpoints: tuple[Endpoint, ...]) -> RenderedFeed:
    """The document as bytes with validators; it changes only with a new release."""
    body = json.dumps(_document(endpoints), indent=1).encode()
    return RenderedFeed(body, make_etag(body), utcnow().replace(microsecond=0))


def document(endpoints: tuple[Endpoint, ...]) -> dict[str, Any]:
    """Built once per process: the endpoints and models do not change while it runs."""
    return _document(endpoints)


def type_label(schema: dict[str, Any]) -> str:
    """A short human-readable type for the reference page, in the reader's language:
    'string (date)', 'list of City' / 'lista de City' (type and schema names stay as the
    document spells them)."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return reduce(lambda first, second: gettext("%(first)s or %(second)s")
                      % {"first": first, "second": second},
                      (type_label(s) for s in schema["anyOf"]))
    if "enum" in schema:
        return " | ".join(f'"{v}"' for v in schema["enum"])
    if "const" in schema:
        return f'"{schema["const"]}"'
    kind = schema.get("type", "any")
    if kind == "array":
        return gettext("list of %(type)s") % {"type": type_label(schema.get("items", {}))}
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)
