"""File attachments through GraphQL and HTTP.

Uploads follow the GraphQL multipart request spec (``uploadFile(..., file: Upload!)``): the
bytes are checked and stored first (:func:`ecehub.hub.files.store_upload`), then the metadata
is recorded (and audited) in the hub store; if that fails, the stored bytes are deleted again,
so a refused or failed upload leaves neither a file nor a row. Deletes are soft and keep the
bytes, so ``restoreFile`` brings a file back whole.

Downloads are plain HTTP: ``GET /files/{id}`` (:mod:`ecehub.downloads`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol, cast

import strawberry
from graphql import GraphQLError
from strawberry.file_uploads import Upload

from ecehub.hub.enums import ObjectType
from ecehub.hub.files import (
    CHUNK_BYTES,
    FilePolicy,
    FileRefused,
    FileTooLarge,
    FileTypeRefused,
    file_storage,
    store_upload,
)
from ecehub.schema.arguments import (
    IdempotencyKey,
    acting_user,
    call_store,
    decode_id,
    program_hub_id,
    store_error,
    subject_hub_id,
    write_right,
)
from ecehub.schema.common import Info
from ecehub.schema.qip import FileAttachment, SubjectType

__all__ = ["FileMutations"]


class _UploadFile(Protocol):
    """What an ``Upload`` is at run time (Starlette's ``UploadFile``)."""

    filename: str | None
    content_type: str | None

    async def read(self, size: int = -1) -> bytes: ...

    async def close(self) -> None: ...


def _upload(value: object) -> _UploadFile:
    if not (hasattr(value, "read") and hasattr(value, "close")):
        raise GraphQLError(
            "file must be sent as a multipart upload (GraphQL multipart request spec)",
            extensions={"code": "BAD_USER_INPUT", "field": "file"},
        )
    return cast(_UploadFile, value)


async def _chunks(upload: _UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK_BYTES):
        yield chunk


def _refused(exc: FileRefused) -> GraphQLError:
    error = store_error(exc)
    extensions: dict[str, Any] = dict(error.extensions or {})
    if isinstance(exc, FileTooLarge):
        extensions["maxBytes"] = exc.max_bytes
    if isinstance(exc, FileTypeRefused):
        extensions["contentType"] = exc.content_type
        extensions["allowedTypes"] = list(exc.allowed)
    return GraphQLError(exc.message, extensions=extensions)


@strawberry.type
class FileMutations:
    """Uploads and soft deletes of file attachments (composed into ``Mutation``)."""

    @strawberry.mutation(
        description="Attach a file (a multipart upload) to the program or one of its sites, "
        "rooms, staff, goals or tasks. Refused with FILE_TOO_LARGE (extensions.maxBytes) or "
        "FILE_TYPE_REFUSED (extensions.allowedTypes); a refused upload leaves nothing behind."
    )
    async def upload_file(
        self,
        info: Info,
        program_id: strawberry.ID,
        subject_type: SubjectType,
        subject_id: strawberry.ID,
        file: Upload,
        idempotency_key: IdempotencyKey = None,
    ) -> FileAttachment:
        upload = _upload(file)
        try:
            actor = await acting_user(info)
            program = await program_hub_id(info, program_id)
            await write_right(info, ObjectType.FILE_ATTACHMENT, program)
            subject = SubjectType(subject_type)
            subject_id_stored = await subject_hub_id(info, program, subject, subject_id)
            config, store = info.context.runtime.config, info.context.runtime.store
            storage = file_storage(config)
            try:
                stored = await store_upload(
                    storage,
                    FilePolicy.from_config(config.files),
                    filename=upload.filename,
                    content_type=upload.content_type,
                    chunks=_chunks(upload),
                )
            except FileRefused as exc:
                raise _refused(exc) from None
            data = {
                "subject_type": subject,
                "subject_id": subject_id_stored,
                "filename": stored.filename,
                "content_type": stored.content_type,
                "size_bytes": stored.size_bytes,
                "sha256": stored.sha256,
                "storage_key": stored.storage_key,
            }
            try:
                row = await call_store(
                    lambda: store.create_file(actor, program, data, idempotency_key=idempotency_key)
                )
            except BaseException:
                await storage.delete(stored.storage_key)
                raise
            if row.storage_key != stored.storage_key:  # a retry: the first upload's file
                await storage.delete(stored.storage_key)
            return FileAttachment(file=row)
        finally:
            await upload.close()

    @strawberry.mutation(description="Soft delete: the bytes are kept, restoreFile brings it back")
    async def delete_file(self, info: Info, id: strawberry.ID, version: int) -> FileAttachment:
        actor, file_id, store = (
            await acting_user(info),
            decode_id(id, "FileAttachment"),
            info.context.runtime.store,
        )
        return FileAttachment(
            file=await call_store(lambda: store.delete_file(actor, file_id, version))
        )

    @strawberry.mutation
    async def restore_file(self, info: Info, id: strawberry.ID, version: int) -> FileAttachment:
        actor, file_id, store = (
            await acting_user(info),
            decode_id(id, "FileAttachment"),
            info.context.runtime.store,
        )
        return FileAttachment(
            file=await call_store(lambda: store.restore_file(actor, file_id, version))
        )


# -- download -------------------------------------------------------------------------------
