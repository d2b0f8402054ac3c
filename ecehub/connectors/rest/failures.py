"""What a ``rest`` request that never got an answer may say: the aiohttp error's name and,
for TLS failures, the likely fix. Never aiohttp's own message, which holds the full URL (and
an API key sent as a query param)."""

from __future__ import annotations

import ssl

import aiohttp

__all__ = ["unanswered"]


def unanswered(exc: aiohttp.ClientError, shown: str, *, secure: bool) -> str:
    """The detail of ``exc`` raised by ``shown`` (e.g. ``GET /v1/providers``); ``secure``:
    the request went over https://."""
    name = type(exc).__name__
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cause = exc.certificate_error
        reason = cause.verify_message if isinstance(cause, ssl.SSLCertVerificationError) else ""
        return (
            f"{name} on {shown}: the server's certificate is not trusted"
            f"{f' ({reason})' if reason else ''}; set tls.ca_file to the CA that signed it"
        )
    if isinstance(exc, aiohttp.ClientSSLError):
        return f"{name} on {shown}: the TLS handshake failed; check the tls settings"
    if secure and isinstance(exc, aiohttp.ServerDisconnectedError):
        # TLS 1.3 servers check the client certificate after the handshake: a missing or
        # untrusted one shows as the connection closing.
        return (
            f"{name} on {shown}: the server closed the connection (a server that requires a "
            f"client certificate does so when it gets none it trusts: check tls.client_cert)"
        )
    return f"{name} on {shown}"
