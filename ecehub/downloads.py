"""``GET /files/{id}``: a hub file's bytes, for an authenticated user whose role may read the
file's program's files (the same rules and audit as GraphQL reads)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ecehub.auth.middleware import ACTOR_HEADER, authentication_of
from ecehub.auth.tokens import Authentication
from ecehub.hub.enums import ObjectType
from ecehub.hub.files import StoredFileMissing, file_storage, sanitise_filename
from ecehub.ids import InvalidId, decode_global_id
from ecehub.resolvers.runtime import Runtime

__all__ = ["content_disposition", "download_file"]


def content_disposition(filename: str) -> str:
    """``attachment`` with the (sanitised) name as RFC 6266 wants it: an ASCII fallback and
    the UTF-8 name in ``filename*``."""
    name = sanitise_filename(filename)
    fallback = name.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _problem(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status)


async def _download_refused(
    runtime: Runtime, authentication: Authentication, request: Request, attachment: Any
) -> str | None:
    """Why the acting user may not download this file (its program is not theirs, or their
    role may not read program files), audited; ``None`` when they may."""
    ctx = runtime.request_context(authentication, request=request)
    if not ctx.access.enabled:
        return None
    reason = ctx.access.field_denial("Program", "files")
    if reason is None and not await ctx.in_scope(attachment.program_id):
        reason = f"the file's program is not among role {ctx.access.label!r}'s programs"
    if reason is not None:
        ctx.operation = "download"
        ctx.deny(attachment.program_id, ObjectType.FILE_ATTACHMENT, attachment.id, reason)
        await ctx.flush_denials()
    return reason


async def download_file(request: Request) -> Response:
    """``GET /files/{id}``: the bytes of a live file, as an attachment with its stored type.
    401 without an acting user; 404 for an ID that names no live file."""
    authentication = authentication_of(request)
    if authentication is None or authentication.user is None:
        return _problem(
            401,
            "UNAUTHENTICATED",
            "downloads need an acting user: send a bearer token (auth mode jwt) or, in the "
            f"development header mode, the {ACTOR_HEADER} header",
        )
    runtime: Runtime = request.app.state.runtime
    not_found = _problem(404, "NOT_FOUND", "no such file")
    try:
        file_id = decode_global_id(request.path_params["id"], "FileAttachment")
    except InvalidId:
        return not_found
    attachment = await runtime.store.get_file(file_id)
    if attachment is None:
        return not_found
    refused = await _download_refused(runtime, authentication, request, attachment)
    if refused is not None:
        return _problem(403, "FORBIDDEN", refused)
    try:
        chunks = await file_storage(runtime.config).open(attachment.storage_key)
    except StoredFileMissing:
        return not_found
    headers = {
        "Content-Type": attachment.content_type,
        "Content-Length": str(attachment.size_bytes),
        "Content-Disposition": content_disposition(attachment.filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(chunks, headers=headers)
