"""Reading the files of a ``csv`` source, again only when they changed.

- A local file is checked with ``stat`` (modification time in ns, size, inode): the same
  signature means the same contents, except for a file changed within :data:`RACY_NS` of when
  it was read (a second write may keep the time stamp), whose bytes are compared by digest
  on the next check until it is settled, as git treats a "racily clean" index entry.
- A URL is fetched with a conditional GET (``If-None-Match`` with its ETag,
  ``If-Modified-Since`` with its Last-Modified): a ``304`` keeps the parsed table.

Files are parsed off the event loop (a thread) into a :class:`Table`: the header and the
rows as lists of text. Errors name the source and the file (a path, or a URL's path: never
its host's query string or a header), never a value of the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import gc
import hashlib
import io
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from ecehub.connectors.csv.settings import CsvSourceConfig, is_url
from ecehub.errors import SourceTimeout, SourceUnavailable

__all__ = ["RACY_NS", "CsvFiles", "Dialect", "Table", "paused_gc", "shown_location"]

log = logging.getLogger("ecehub.connectors.csv")

RACY_NS = 2_000_000_000
"""A file modified less than this long (2 s) before it was read may change again without a
new time stamp (coarse file-system clocks): its bytes are compared on the next check."""


@dataclass(frozen=True)
class Dialect:
    encoding: str
    delimiter: str
    quotechar: str


@dataclass(frozen=True)
class Table:
    """One parsed file: ``header`` and data ``rows`` (blank lines skipped); ``version``
    grows whenever the file is read again with other contents."""

    location: str
    header: list[str]
    rows: list[list[str]]
    """Emptied once every entity reading the file has indexed this version."""
    version: int
    location_key: tuple[str, Dialect]
    """The location as configured and the dialect it was read with."""


@dataclass
class _Cached:
    table: Table
    checked_at: float  # monotonic
    signature: tuple[int, int, int] | None = None  # local files: mtime_ns, size, inode
    digest: bytes = b""
    read_ns: int = 0  # wall clock when the bytes were read
    etag: str | None = None
    last_modified: str | None = None


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a file's rows become objects: none of them is
    garbage yet, and collections triggered by the allocations would walk them again and
    again (a third of the time of a large file). Collection resumes after, as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def shown_location(location: str) -> str:
    """How a location appears in logs and errors: a path as given, a URL by its path only."""
    if is_url(location):
        return urlsplit(location).path or "/"
    return location


class CsvFiles:
    """The files of one ``csv`` source (``source`` names it in errors), each read once and
    again when it changed; one aiohttp session for the URLs."""

    def __init__(self, source: str, settings: CsvSourceConfig) -> None:
        self.source = source
        self.settings = settings
        self._cache: dict[tuple[str, Dialect], _Cached] = {}
        self._locks: dict[tuple[str, Dialect], asyncio.Lock] = {}
        self._versions = 0
        self._session: aiohttp.ClientSession | None = None
        self.requests = 0
        """HTTP requests made (for tests and traces)."""

    async def aclose(self) -> None:
        session, self._session = self._session, None
        self._cache.clear()
        self._locks.clear()
        if session is not None and not session.closed:
            await session.close()

    async def table(self, location: str, dialect: Dialect) -> Table:
        """The parsed file at ``location``, read again only if it changed."""
        key = (location, dialect)
        cached = self._cache.get(key)
        recheck = self.settings.recheck_s
        if cached is not None and recheck and time.monotonic() - cached.checked_at < recheck:
            return cached.table
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._cache.get(key)
            if is_url(location):
                found = await self._fetch_url(location, dialect, cached)
            else:
                found = await self._read_file(location, dialect, cached)
            found.checked_at = time.monotonic()
            self._cache[key] = found
            return found.table

    def _next_version(self) -> int:
        self._versions += 1
        return self._versions

    # -- local files ------------------------------------------------------------------------
    async def _read_file(self, path: str, dialect: Dialect, cached: _Cached | None) -> _Cached:
        shown = shown_location(path)
        try:
            stat = await asyncio.to_thread(os.stat, path)
        except OSError as exc:
            raise SourceUnavailable(
                self.source, f"cannot read file {shown!r}: {exc.strerror or type(exc).__name__}"
            ) from None
        signature = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        settled = cached is not None and cached.read_ns - signature[0] >= RACY_NS
        if cached is not None and cached.signature == signature and settled:
            return cached  # unchanged
        if stat.st_size > self.settings.max_bytes:
            raise SourceUnavailable(
                self.source,
                f"file {shown!r} is {stat.st_size} bytes, more than max_bytes "
                f"({self.settings.max_bytes})",
            )
        read_ns = time.time_ns()
        try:
            data, digest = await asyncio.to_thread(_read_bytes, path)
        except OSError as exc:
            raise SourceUnavailable(
                self.source, f"cannot read file {shown!r}: {exc.strerror or type(exc).__name__}"
            ) from None
        if cached is not None and cached.digest == digest:
            cached.signature, cached.read_ns = signature, read_ns
            return cached
        table = await asyncio.to_thread(self._parse, (path, dialect), data)
        return _Cached(table, time.monotonic(), signature=signature, digest=digest, read_ns=read_ns)

    # -- URLs -------------------------------------------------------------------------------
    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            headers = {k: v.get_secret_value() for k, v in self.settings.headers.items()}
            self._session = aiohttp.ClientSession(
                headers=headers, timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s)
            )
        return self._session

    async def _fetch_url(self, url: str, dialect: Dialect, cached: _Cached | None) -> _Cached:
        shown = f"GET {shown_location(url)}"
        conditions: dict[str, str] = {}
        if cached is not None:
            if cached.etag:
                conditions["If-None-Match"] = cached.etag
            if cached.last_modified:
                conditions["If-Modified-Since"] = cached.last_modified
        session = self._client()
        self.requests += 1
        try:
            # No redirects: the headers (a token) must not follow one to another host.
            async with session.get(url, headers=conditions, allow_redirects=False) as resp:
                if resp.status == 304 and cached is not None:
                    return cached
                if resp.status != 200:
                    raise SourceUnavailable(self.source, f"HTTP {resp.status} from {shown}")
                data = await _read_limited(resp, self.settings.max_bytes)
                if data is None:
                    raise SourceUnavailable(
                        self.source,
                        f"{shown} answered more than max_bytes ({self.settings.max_bytes})",
                    )
                etag = resp.headers.get("ETag")
                last_modified = resp.headers.get("Last-Modified")
        except TimeoutError:
            raise SourceTimeout(
                self.source, f"no answer within {self.settings.timeout_s:g} s to {shown}"
            ) from None
        except aiohttp.ClientError as exc:
            # Not chained: aiohttp's message may hold the whole URL with its query.
            raise SourceUnavailable(self.source, f"{type(exc).__name__} on {shown}") from None
        digest = await asyncio.to_thread(_digest, data)
        if cached is not None and cached.digest == digest:
            cached.etag, cached.last_modified = etag, last_modified
            return cached
        table = await asyncio.to_thread(self._parse, (url, dialect), data)
        return _Cached(
            table, time.monotonic(), digest=digest, etag=etag, last_modified=last_modified
        )

    # -- parsing ----------------------------------------------------------------------------
    def _parse(self, key: tuple[str, Dialect], data: bytes) -> Table:
        location, dialect = key
        shown = shown_location(location)
        try:
            text = data.decode(dialect.encoding)
        except UnicodeDecodeError as exc:
            raise SourceUnavailable(
                self.source,
                f"file {shown!r} is not valid {dialect.encoding} (byte {exc.start}); set "
                f"`encoding` (e.g. latin-1, cp1252, utf-8-sig)",
            ) from None
        reader = csv.reader(
            io.StringIO(text, newline=""),
            delimiter=dialect.delimiter,
            quotechar=dialect.quotechar,
            strict=True,
        )
        header: list[str] = []
        rows: list[list[str]] = []
        try:
            with paused_gc():
                for row in reader:
                    if not row or (len(row) == 1 and row[0].strip() == ""):
                        continue  # a blank line
                    if not header:
                        header = [cell.strip() for cell in row]
                        header[0] = header[0].removeprefix("\ufeff").strip()
                    else:
                        rows.append(row)
        except csv.Error as exc:
            raise SourceUnavailable(
                self.source, f"file {shown!r} is not valid CSV at line {reader.line_num}: {exc}"
            ) from None
        return Table(shown, header, rows, self._next_version(), key)


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _read_bytes(path: str) -> tuple[bytes, bytes]:
    """A file's bytes and their digest (off the event loop: both take a while for a big
    file)."""
    with open(path, "rb") as handle:
        data = handle.read()
    return data, _digest(data)


async def _read_limited(resp: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The body, or ``None`` when it is longer than ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
