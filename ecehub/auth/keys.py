"""Where verification keys come from: static public keys from config, or an identity
provider's JWKS fetched over HTTP, cached for ``jwks_ttl_s`` and refetched (at most every
``jwks_refetch_min_s``) when a token names a ``kid`` the cached set lacks, so a rotated key is
picked up."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, KeySet, OKPKey, RSAKey

from ecehub.auth.errors import AuthError, TokenRejected
from ecehub.config.model import AuthConfig

__all__ = ["JwksKeys", "KeySource", "StaticKeys", "key_source", "parse_keys", "pick_key"]

_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP", "HS": "oct"}


def _key_type_for(alg: str) -> str | None:
    return next((kty for prefix, kty in _KEY_TYPES.items() if alg.startswith(prefix)), None)


def pick_key(keys: Sequence[Key], alg: str, kid: str | None) -> Key | None:
    """The key that may verify a token with header ``alg`` and ``kid``: its type fits the
    algorithm, its own ``alg`` and ``use`` (when set) allow it, and its ``kid`` matches (a token
    without ``kid`` is taken only when exactly one key fits)."""
    kty = _key_type_for(alg)
    fits = [
        k
        for k in keys
        if k.key_type == kty
        and k.get("alg", alg) == alg
        and k.get("use", "sig") == "sig"
        and (kid is None or k.kid == kid)
    ]
    if kid is None and len(fits) != 1:
        return None
    return fits[0] if fits else None


class KeySource(Protocol):
    async def key_for(self, alg: str, kid: str | None) -> Key:
        """The key for a token's header, or :class:`TokenRejected` ``unknown_key``."""
        ...


def _unknown(kid: str | None) -> TokenRejected:
    if kid is None:
        return TokenRejected("unknown_key", "the token names no key (kid) and no single key fits")
    return TokenRejected("unknown_key", "no known key has the token's key ID (kid)")


class StaticKeys:
    def __init__(self, keys: Sequence[Key]) -> None:
        self.keys = list(keys)

    async def key_for(self, alg: str, kid: str | None) -> Key:
        key = pick_key(self.keys, alg, kid)
        if key is None:
            raise _unknown(kid)
        return key


class JwksKeys:
    """An identity provider's JWKS. Concurrent requests share one fetch."""

    def __init__(
        self,
        url: str,
        *,
        ttl_s: float = 300.0,
        refetch_min_s: float = 30.0,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.ttl_s = ttl_s
        self.refetch_min_s = refetch_min_s
        self.timeout_s = timeout_s
        self.clock = clock
        self.fetches = 0
        self._keys: list[Key] = []
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def key_for(self, alg: str, kid: str | None) -> Key:
        if self._stale():
            await self._refresh(lambda: self._stale())
        key = pick_key(self._keys, alg, kid)
        if key is None and kid is not None and self._may_refetch():
            # A kid we have not seen may be a key the provider has just rotated in.
            await self._refresh(lambda: pick_key(self._keys, alg, kid) is None)
            key = pick_key(self._keys, alg, kid)
        if key is None:
            raise _unknown(kid)
        return key

    def _stale(self) -> bool:
        return self._fetched_at is None or self.clock() - self._fetched_at >= self.ttl_s

    def _may_refetch(self) -> bool:
        return self._fetched_at is None or self.clock() - self._fetched_at >= self.refetch_min_s

    async def _refresh(self, still_needed: Callable[[], bool]) -> None:
        async with self._lock:
            if not still_needed():  # another request fetched while this one waited
                return
            self._keys = await self._fetch()
            self._fetched_at = self.clock()

    async def _fetch(self) -> list[Key]:
        self.fetches += 1
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(self.url, headers={"accept": "application/json"}) as response,
            ):
                if response.status != 200:
                    raise AuthError(f"the JWKS endpoint answered HTTP {response.status}")
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            # The URL is left out: it may carry a token in its query.
            raise AuthError(f"the JWKS could not be fetched: {type(exc).__name__}") from None
        try:
            return list(KeySet.import_key_set(data))
        except (JoseError, KeyError, TypeError, ValueError) as exc:
            raise AuthError(f"the JWKS is not a valid key set: {type(exc).__name__}") from None


def _import_one(text: str) -> list[Key]:
    stripped = text.strip()
    if stripped.startswith("{"):
        data: Any = json.loads(stripped)
        if isinstance(data, dict) and "keys" in data:
            key_set: Any = data
            return list(KeySet.import_key_set(key_set))
        return [KeySet.registry_cls.import_key(data)]
    if stripped.startswith("-----BEGIN"):
        for cls in (RSAKey, ECKey, OKPKey):
            try:
                return [cls.import_key(stripped)]
            except (JoseError, ValueError, TypeError):
                continue
        raise ValueError("not an RSA, EC or OKP public key")
    raise ValueError("neither JWK/JWKS JSON nor PEM")


def parse_keys(values: Sequence[str], base_dir: Path | None) -> list[Key]:
    """Static keys from config: inline JWK/JWKS JSON or PEM, or a path to a file holding one.
    Errors name ``auth.keys[i]``, never the key."""
    keys: list[Key] = []
    for i, value in enumerate(values):
        where = f"auth.keys[{i}]"
        text = value
        if not value.lstrip().startswith(("{", "-----BEGIN")):
            path = Path(value)
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise AuthError(f"{where}: cannot read key file: {exc.strerror}") from None
        try:
            found = _import_one(text)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise AuthError(f"{where}: not a usable public key ({type(exc).__name__})") from None
        if any(k.is_private and k.key_type != "oct" for k in found):
            raise AuthError(f"{where}: holds a private key; configure only the public key")
        for key in found:
            key.ensure_kid()
        keys.extend(found)
    return keys


def key_source(config: AuthConfig, base_dir: Path | None = None) -> KeySource:
    if config.jwks_url:
        return JwksKeys(
            config.jwks_url,
            ttl_s=config.jwks_ttl_s,
            refetch_min_s=config.jwks_refetch_min_s,
            timeout_s=config.jwks_timeout_s,
        )
    return StaticKeys(parse_keys(config.keys, base_dir))
