"""File attachments: where their bytes live, and the rules an upload must pass.

The hub store keeps a file's metadata (:class:`~ecehub.hub.records.FileAttachment`); its bytes
live in a :class:`FileStorage` under a random key. :class:`LocalFileStorage` keeps them in a
directory; an object store can replace it by implementing the same three methods.

:func:`store_upload` is the one way bytes get in. It checks the declared content type against
the allow-list before anything is written, sniffs the first bytes (a PDF, PNG or JPEG must be
one, and none of those may come in under another label), counts and hashes (SHA-256) while
streaming, and stops as soon as the size limit is passed. A storage writes atomically: when the
stream fails, nothing is left behind. The caller records the metadata and, if that fails,
deletes the bytes again (:meth:`FileStorage.delete`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import secrets
import tempfile
import unicodedata
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

from ecehub.config.model import Config, FilesConfig
from ecehub.errors import HubStoreError

__all__ = [
    "CHUNK_BYTES",
    "FilePolicy",
    "FileRefused",
    "FileStorage",
    "FileTooLarge",
    "FileTypeRefused",
    "LocalFileStorage",
    "StoredFileMissing",
    "StoredUpload",
    "file_storage",
    "files_directory",
    "new_storage_key",
    "normalise_content_type",
    "sanitise_filename",
    "store_upload",
]

CHUNK_BYTES = 64 * 1024
"""How much is read or written at a time."""

_SNIFF_BYTES = 8
_MAGIC: dict[str, bytes] = {
    "application/pdf": b"%PDF-",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
}
# OOXML documents are ZIP archives.
_ZIP = b"PK\x03\x04"
_OOXML_PREFIX = "application/vnd.openxmlformats-officedocument."
_KEY = re.compile(r"[A-Za-z0-9_-]{16,128}")


# -- errors -------------------------------------------------------------------------------


class FileRefused(HubStoreError):
    """An upload broke a file rule; nothing was stored."""

    code = "FILE_REFUSED"


class FileTooLarge(FileRefused):
    """The upload is bigger than ``files.max_bytes``."""

    code = "FILE_TOO_LARGE"

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        super().__init__(
            f"the file is larger than the limit of {max_bytes} bytes",
            suggestion="upload a smaller file",
        )


class FileTypeRefused(FileRefused):
    """The declared content type is not allowed, or the bytes are not what it says."""

    code = "FILE_TYPE_REFUSED"

    def __init__(self, content_type: str, allowed: tuple[str, ...], detail: str) -> None:
        self.content_type = content_type
        self.allowed = allowed
        super().__init__(detail, suggestion=f"upload one of: {', '.join(allowed)}")


class StoredFileMissing(HubStoreError):
    """The storage holds nothing under a key."""

    code = "NOT_FOUND"

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no stored file under key {key!r}")


# -- storage ------------------------------------------------------------------------------


@runtime_checkable
class FileStorage(Protocol):
    """Where the bytes of uploaded files are kept, each under an opaque key."""

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> None:
        """Store everything ``chunks`` yields under ``key``, atomically: the key becomes
        visible only once all of it is written, and if ``chunks`` (or the write) fails,
        nothing is left behind and the error propagates."""
        ...

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """The bytes under ``key``, in chunks; :class:`StoredFileMissing` if there are none.
        (Raised here, before the first chunk, so a caller can answer 404 in time.)"""
        ...

    async def delete(self, key: str) -> None:
        """Remove the bytes under ``key``; a key with nothing under it is not an error."""
        ...


def new_storage_key() -> str:
    """A fresh random key: never derived from anything the client sent."""
    return secrets.token_hex(16)


class LocalFileStorage:
    """Files in one directory, named by their key. A write goes to a temporary file in the
    same directory (``.upload-*.part``, never a valid key), is flushed to disk and is then
    renamed onto its key with :func:`os.replace`, so a reader never sees a partial file."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.directory / key

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> None:
        target = self.path(key)
        fd, temp = await asyncio.to_thread(self._temp_file)
        handle = os.fdopen(fd, "wb")
        try:
            async for chunk in chunks:
                await asyncio.to_thread(handle.write, chunk)
            await asyncio.to_thread(_flush, handle)
            handle.close()
            await asyncio.to_thread(os.replace, temp, target)
        except BaseException:
            handle.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise

    def _temp_file(self) -> tuple[int, str]:
        self.directory.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=self.directory, prefix=".upload-", suffix=".part")

    async def open(self, key: str) -> AsyncIterator[bytes]:
        path = self.path(key)
        try:
            handle = await asyncio.to_thread(_open_for_reading, path)
        except FileNotFoundError:
            raise StoredFileMissing(key) from None
        return _read_chunks(handle)

    async def delete(self, key: str) -> None:
        path = self.path(key)
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(path.unlink)


def _flush(handle: IO[bytes]) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _open_for_reading(path: Path) -> IO[bytes]:
    return path.open("rb")


async def _read_chunks(handle: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
            yield chunk
    finally:
        handle.close()


def files_directory(config: Config) -> Path:
    """``files.directory``; a relative one is taken relative to the config file's folder
    (like the hub's SQLite file), or to the working directory for a config not from a file."""
    directory = config.files.directory
    if directory.is_absolute():
        return directory
    base = config.file.parent if config.file is not None else Path.cwd()
    return (base / directory).resolve()


def file_storage(config: Config) -> FileStorage:
    """The file storage a config names (today: a local directory). This is the one place to
    choose another implementation, e.g. an object store."""
    return LocalFileStorage(files_directory(config))


# -- the rules an upload must pass ----------------------------------------------------------


def normalise_content_type(value: str | None) -> str:
    """``"Text/Plain; charset=UTF-8"`` -> ``"text/plain"``; nothing -> ``""``."""
    return (value or "").split(";", 1)[0].strip().lower()


_UNSAFE = re.compile(r'[\\/:*?"<>|]')
_SPACES = re.compile(r"\s+")
_MAX_FILENAME = 200


def sanitise_filename(name: str | None) -> str:
    """A display name that is safe to store and to send back in ``Content-Disposition``:
    the last path segment only, NFC, no control or path characters, no leading dots, at most
    200 characters (the extension kept). Never a storage key."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[\\/]", text)[-1]
    text = _SPACES.sub(" ", text)
    text = "".join(c for c in text if not unicodedata.category(c).startswith("C"))
    text = _SPACES.sub(" ", _UNSAFE.sub("_", text)).strip().lstrip(".").strip()
    if len(text) > _MAX_FILENAME:
        stem, dot, ext = text.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            text = stem[: _MAX_FILENAME - len(ext) - 1].rstrip() + "." + ext
        else:
            text = text[:_MAX_FILENAME].rstrip()
    return text or "file"


@dataclass(frozen=True)
class FilePolicy:
    """The limits from ``files`` in the config."""

    max_bytes: int
    allowed_types: tuple[str, ...]

    @classmethod
    def from_config(cls, files: FilesConfig) -> FilePolicy:
        return cls(files.max_bytes, tuple(normalise_content_type(t) for t in files.allowed_types))

    def check_type(self, content_type: str | None) -> str:
        """The normalised content type, or :class:`FileTypeRefused` if it is not allowed."""
        normal = normalise_content_type(content_type)
        if normal not in self.allowed_types:
            shown = normal or "no content type"
            raise FileTypeRefused(normal, self.allowed_types, f"{shown} is not an allowed type")
        return normal

    def check_head(self, content_type: str, head: bytes) -> None:
        """A light sniff of the first bytes: a PDF, PNG or JPEG (or an OOXML document) must
        start as one, and the bytes of a PDF, PNG or JPEG may not come under another label."""
        expected = _MAGIC.get(content_type)
        if content_type.startswith(_OOXML_PREFIX):
            expected = _ZIP
        if expected is not None and not head.startswith(expected):
            raise FileTypeRefused(
                content_type,
                self.allowed_types,
                f"the file is labelled {content_type} but its content is not",
            )
        for actual, magic in _MAGIC.items():
            if actual != content_type and head.startswith(magic):
                raise FileTypeRefused(
                    content_type,
                    self.allowed_types,
                    f"the file is labelled {content_type} but its content is {actual}",
                )


@dataclass(frozen=True)
class StoredUpload:
    """Bytes now in storage, and what to record about them."""

    storage_key: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str


class _Meter:
    """Counts, hashes and sniffs the chunks of one upload as they stream through."""

    def __init__(self, policy: FilePolicy, content_type: str) -> None:
        self.policy = policy
        self.content_type = content_type
        self.size = 0
        self.digest = hashlib.sha256()

    async def guard(self, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        head = b""
        sniffed = False
        async for chunk in chunks:
            if not chunk:
                continue
            self.size += len(chunk)
            if self.size > self.policy.max_bytes:
                raise FileTooLarge(self.policy.max_bytes)
            self.digest.update(chunk)
            if sniffed:
                yield chunk
                continue
            head += chunk
            if len(head) >= _SNIFF_BYTES:
                self.policy.check_head(self.content_type, head)
                sniffed = True
                yield head
        if not sniffed:
            self.policy.check_head(self.content_type, head)
            if head:
                yield head


async def store_upload(
    storage: FileStorage,
    policy: FilePolicy,
    *,
    filename: str | None,
    content_type: str | None,
    chunks: AsyncIterable[bytes],
) -> StoredUpload:
    """Check, stream and store one upload under a new random key. Raises
    :class:`FileTypeRefused` (before anything is written, or after the first bytes) or
    :class:`FileTooLarge` (as soon as the limit is passed); either way nothing is stored."""
    checked_type = policy.check_type(content_type)
    meter = _Meter(policy, checked_type)
    key = new_storage_key()
    await storage.put(key, meter.guard(chunks))
    return StoredUpload(
        storage_key=key,
        filename=sanitise_filename(filename),
        content_type=checked_type,
        size_bytes=meter.size,
        sha256=meter.digest.hexdigest(),
    )
