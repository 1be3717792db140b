"""OpenAPI details Litestar leaves out."""

from __future__ import annotations

from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Say `additionalProperties: false` for structs that refuse unknown fields, as the API does:
    a client reading the schema then knows an extra field is an error, not ignored."""

    def to_openapi_schema(self, field_definition, schema_creator):
        schema = super().to_openapi_schema(field_definition, schema_creator)
        if field_definition.type_.__struct_config__.forbid_unknown_fields:
            schema.additional_properties = False
        return schema
