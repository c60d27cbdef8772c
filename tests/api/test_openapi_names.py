"""Each component name in the OpenAPI schema stands for one shape, and operations
document the errors they can answer with.

django-ninja files every model under its class name and, when two different classes
share a name, keeps whichever it met last: the schema then describes one shape under
the other's operations (it once described five kinds of rule as `RuleOut`)."""

from collections import defaultdict

from ninja.constants import NOT_SET
from ninja.openapi.schema import NinjaGenerateJsonSchema

from salesplan.config.api import api

REF = "#/components/schemas/{model}"


def _operations():
    for bound in api._get_bound_routers():
        for path_view in bound.path_operations.values():
            yield from path_view.operations


def _shapes_by_operation():
    """(operation, component name, the shape that operation needs under that name)."""
    for operation in _operations():
        models = [(m, "serialization") for m in (operation.response_models or {}).values()
                  if m is not None and m is not NOT_SET]
        models += [(m, "validation") for m in operation.models]
        for model, mode in models:
            schema = model.model_json_schema(
                ref_template=REF, mode=mode, schema_generator=NinjaGenerateJsonSchema,
                by_alias=operation.by_alias if mode == "serialization" else True)
            for name, shape in schema.get("$defs", {}).items():
                yield operation, name, shape


def test_no_two_shapes_share_a_component_name():
    components = api.get_openapi_schema()["components"]["schemas"]
    wrong: dict[str, set[str]] = defaultdict(set)
    for operation, name, shape in _shapes_by_operation():
        if components.get(name) != shape:
            wrong[name].add(f"{operation.view_func.__module__}.{operation.view_func.__name__}")
    assert not wrong, (
        "These component names stand for more than one shape; give each class its own "
        f"name (e.g. TerritoryRuleOut, ApprovalRuleOut): {dict(wrong)}")


def test_the_problem_component_is_the_problem_details_shape():
    problem = api.get_openapi_schema()["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])


def test_operations_document_the_errors_they_answer_with():
    schema = api.get_openapi_schema()
    missing = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            documented = {str(status) for status in operation["responses"]}
            expected = {"401", "422"} | ({"404"} if "{" in path else set())
            if method in {"post", "patch", "put"}:
                expected |= {"400", "413"}
            if not expected <= documented:
                missing.append(f"{method.upper()} {path}: {sorted(expected - documented)}")
    assert not missing, missing


def test_lookups_by_an_id_outside_the_path_document_404():
    paths = api.get_openapi_schema()["paths"]
    assert "404" in paths["/api/v1/forecasts/rollup"]["get"]["responses"]
    assert "404" in paths["/api/v1/quotes"]["post"]["responses"]
    assert "404" not in paths["/api/v1/accounts"]["get"]["responses"]
