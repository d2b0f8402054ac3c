"""The ``rest`` connector: aiohttp, one ClientSession per connector, driven by config only.

Keys, fields, identifiers and parents are dotted JSON paths inside one record
(``location.city``, ``phones.0.number``); a path that is not there reads as ``None``.

- :mod:`~ecehub.connectors.rest.settings`: the config models (auth, pagination, batch and
  filter params, batches of keys, entities, the source);
- :mod:`~ecehub.connectors.rest.dialects`: query languages (SODA ``$where``, OData
  ``$filter``): their presets, and literals and conditions written with escaping;
- :mod:`~ecehub.connectors.rest.search`: POST search bodies: their placeholders, checked at
  load, and filled with JSON values;
- :mod:`~ecehub.connectors.rest.credentials`: OAuth2 client credentials and client
  certificates (``tls``): secrets named by environment variable, files loaded at config load;
- :mod:`~ecehub.connectors.rest.oauth`: the access token of a source (kept, refreshed before
  it expires, one refresh at a time, a new one after a 401);
- :mod:`~ecehub.connectors.rest.paths`: reading a dotted JSON path; an endpoint's path;
- :mod:`~ecehub.connectors.rest.transport`: the session, auth and one GET or POST, and what
  its errors may show;
- :mod:`~ecehub.connectors.rest.paging`: a listing page by page in each paging style (GET
  params or a search body), and what ``Record.cursor`` holds;
- :mod:`~ecehub.connectors.rest.connector`: :class:`RestConnector`, the connector contract on
  top, and how each of its calls reaches the API.
"""

from ecehub.connectors.rest.connector import RestConnector
from ecehub.connectors.rest.settings import (
    ApiKeyAuth,
    BearerAuth,
    OAuth2ClientCredentialsAuth,
    PaginationConfig,
    RestBatch,
    RestByKeys,
    RestEntityConfig,
    RestFilterParam,
    RestQueryLanguage,
    RestSearch,
    RestSearchFilter,
    RestSourceConfig,
    TlsSettings,
)

__all__ = [
    "ApiKeyAuth",
    "BearerAuth",
    "OAuth2ClientCredentialsAuth",
    "PaginationConfig",
    "RestBatch",
    "RestByKeys",
    "RestConnector",
    "RestEntityConfig",
    "RestFilterParam",
    "RestQueryLanguage",
    "RestSearch",
    "RestSearchFilter",
    "RestSourceConfig",
    "TlsSettings",
]
