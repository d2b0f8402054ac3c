"""The ``csv`` connector: CSV files, local or over HTTP, one or more per entity.

- :mod:`~ecehub.connectors.csv.settings`: the config models (locations, encoding, delimiter,
  quote character, key columns);
- :mod:`~ecehub.connectors.csv.reading`: reading a file again only when it changed (stat for
  a local file, a conditional GET for a URL) and parsing it;
- :mod:`~ecehub.connectors.csv.index`: one entity's canonical records, indexed, with what
  could not be read accounted;
- :mod:`~ecehub.connectors.csv.connector`: :class:`CsvConnector`, the contract on top.
"""

from ecehub.connectors.csv.connector import CsvConnector
from ecehub.connectors.csv.settings import CsvEntityConfig, CsvSourceConfig

__all__ = ["CsvConnector", "CsvEntityConfig", "CsvSourceConfig"]
