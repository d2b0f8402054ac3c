"""Configuration: the YAML model and its loader."""

from ecehub.config.loader import load_config, parse_config, read_yaml
from ecehub.config.model import (
    DEFAULT_SUPPORT_TYPES,
    CacheConfig,
    Config,
    EntityConfig,
    HubConfig,
    MergeRule,
    ServerConfig,
    SourceConfig,
    SupportTypeConfig,
)

__all__ = [
    "DEFAULT_SUPPORT_TYPES",
    "CacheConfig",
    "Config",
    "EntityConfig",
    "HubConfig",
    "MergeRule",
    "ServerConfig",
    "SourceConfig",
    "SupportTypeConfig",
    "load_config",
    "parse_config",
    "read_yaml",
]
