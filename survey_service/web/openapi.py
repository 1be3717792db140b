"""OpenAPI details Litestar leaves out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from litestar.exceptions import ImproperlyConfiguredException
from litestar.openapi.spec import Schema
from litestar.plugins import InitPlugin, OpenAPISchemaPlugin, OpenAPISchemaPluginProtocol
from litestar.typing import FieldDefinition

if TYPE_CHECKING:
    from litestar.config.app import AppConfig


class StrictStructSchemaPlugin(OpenAPISchemaPlugin, InitPlugin):
    """Say `additionalProperties: false` for structs that refuse unknown fields, as the API does:
    a client reading the schema then knows an extra field is an error, not ignored.

    The schema itself is Litestar's: for such a struct this plugin (listed in the app's `plugins`,
    so asked before Litestar's own schema plugins) hands the field to the plugin Litestar would have
    used without it, found among the app's plugins when the app is built, and adds the one key."""

    def __init__(self) -> None:
        self._others: tuple[OpenAPISchemaPluginProtocol, ...] = ()

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        # By now app_config.plugins holds Litestar's own OpenAPI schema plugins too (after ours).
        self._others = tuple(
            plugin
            for plugin in app_config.plugins
            if plugin is not self and isinstance(plugin, OpenAPISchemaPluginProtocol)
        )
        return app_config

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        type_ = field_definition.type_
        return (
            not field_definition.is_union
            and field_definition.is_subclass_of(msgspec.Struct)
            and type_.__struct_config__.forbid_unknown_fields
        )

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        schema = self._litestars_plugin(field_definition).to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema

    def _litestars_plugin(self, field_definition: FieldDefinition) -> OpenAPISchemaPluginProtocol:
        """The schema plugin Litestar picks for this field when ours is left out (its own rule:
        the first plugin that supports the field)."""
        for plugin in self._others:
            if isinstance(plugin, OpenAPISchemaPlugin):
                supported = plugin.is_plugin_supported_field(field_definition)
            else:
                supported = plugin.is_plugin_supported_type(field_definition.annotation)
            if supported:
                return plugin
        raise ImproperlyConfiguredException(f"no OpenAPI schema plugin for {field_definition.annotation!r}")
