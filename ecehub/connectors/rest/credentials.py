"""The ``rest`` source's credentials settings: OAuth2 client credentials (``auth: {type:
oauth2_client_credentials}``) and client certificates (``tls``).

Secrets are named, never written: ``client_id_env``, ``client_secret_env`` and
``key_password_env`` hold the *name* of an environment variable, read when the config loads
(so ``ecehub check`` and startup report one that is not set) and kept as ``SecretStr``. A
literal secret in the file is refused with the fix. Certificate paths are taken relative to
the config file's folder and loaded when the config loads, so a missing file, a key that does
not match its certificate or a wrong key password fail at startup, not at the first query.

The loader passes the config file and the environment as the validation context
(``{"config_file": ..., "env": ...}``); without one (a model built in Python), paths are
relative to the working directory and variables come from ``os.environ``.
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

__all__ = ["OAuth2ClientCredentialsAuth", "TlsSettings"]

_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _check_env_name(value: str) -> str:
    # The message never echoes the value: a secret pasted here by mistake must not be shown.
    if not _ENV_NAME.fullmatch(value) or len(value) > 128:
        raise ValueError(
            "expects the NAME of an environment variable (capitals, digits and _, e.g. "
            "QRIS_CLIENT_SECRET), not its value and not ${...}: export the secret and name "
            "the variable here"
        )
    return value


# The pattern is for editors (the JSON Schema); the validator gives the message.
EnvName = Annotated[
    str,
    AfterValidator(_check_env_name),
    Field(json_schema_extra={"pattern": f"^{_ENV_NAME.pattern}$"}),
]


def _environment(info: ValidationInfo) -> Mapping[str, str]:
    context = info.context if isinstance(info.context, Mapping) else {}
    env = context.get("env")
    return env if isinstance(env, Mapping) else os.environ


def _config_folder(info: ValidationInfo) -> Path:
    context = info.context if isinstance(info.context, Mapping) else {}
    file = context.get("config_file")
    if isinstance(file, str | Path) and not str(file).startswith("<"):
        return Path(file).resolve().parent
    return Path.cwd()


def _read_variable(name: str, env: Mapping[str, str]) -> str:
    value = env.get(name)
    if not value:
        raise ValueError(f"environment variable {name} is not set (export it; it holds a secret)")
    return value


class _Secrets(BaseModel):
    """Settings that name secrets: a rejected value is never echoed in an error."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    # Setting names people write by habit, with the setting that replaces each.
    literal_secrets: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _no_literal_secrets(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for written, instead in cls.literal_secrets.items():
                if written in data:
                    raise ValueError(
                        f"`{written}` is not a setting: a secret is never written in the "
                        f"config. Put it in an environment variable and name that variable "
                        f"with `{instead}`, e.g. `{instead}: QRIS_"
                        f"{instead.removesuffix('_env').upper()}`"
                    )
        return data


class OAuth2ClientCredentialsAuth(_Secrets):
    """OAuth2 client credentials (RFC 6749 section 4.4): the hub asks ``token_url`` for an
    access token with the client's ID and secret, sends it as ``Authorization: Bearer``,
    keeps it until ``refresh_leeway_s`` before it expires (or halfway through a shorter
    life) and asks again once when the API answers 401."""

    literal_secrets: ClassVar[dict[str, str]] = {
        "client_id": "client_id_env",
        "client_secret": "client_secret_env",
        "secret": "client_secret_env",
    }

    type: Literal["oauth2_client_credentials"]
    token_url: str = Field(description="the token endpoint (https://, or http:// on loopback)")
    client_id_env: EnvName = Field(description="the environment variable holding the client ID")
    client_secret_env: EnvName = Field(
        description="the environment variable holding the client secret"
    )
    scope: str | list[str] | None = Field(default=None, description="scopes asked for")
    audience: str | None = Field(
        default=None, description="the `audience` parameter some providers need (Auth0, ...)"
    )
    auth_method: Literal["client_secret_basic", "client_secret_post"] = Field(
        default="client_secret_basic",
        description="how the client authenticates to the token endpoint (RFC 6749 2.3.1)",
    )
    refresh_leeway_s: float = Field(
        default=60,
        ge=0,
        le=3600,
        description="refresh a token this long before it expires (at most half its life)",
    )

    _client_id: str = PrivateAttr(default="")
    _client_secret: SecretStr = PrivateAttr(default=SecretStr(""))

    @field_validator("token_url")
    @classmethod
    def _secure_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("token_url must be an absolute https:// URL")
        if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
            raise ValueError(
                "token_url must be https://: the client secret travels to it (http:// is "
                "accepted for a loopback host only, for tests)"
            )
        return value

    @field_validator("client_id_env", "client_secret_env")
    @classmethod
    def _is_set(cls, value: str, info: ValidationInfo) -> str:
        _read_variable(value, _environment(info))
        return value

    @model_validator(mode="after")
    def _read_secrets(self, info: ValidationInfo) -> Self:
        env = _environment(info)
        self._client_id = _read_variable(self.client_id_env, env)
        self._client_secret = SecretStr(_read_variable(self.client_secret_env, env))
        return self

    def credentials(self) -> tuple[str, str]:
        """The client ID and secret, as read from the environment when the config loaded."""
        return self._client_id, self._client_secret.get_secret_value()


class _NeedsPassword(Exception):
    """OpenSSL asked for the password of an encrypted key and none is configured."""


def _no_password() -> bytes:
    # Without a callback OpenSSL would prompt on the terminal, blocking a server.
    raise _NeedsPassword


class TlsSettings(_Secrets):
    """The TLS side of a source: a client certificate for mutual TLS, a private CA, or both.
    Relative paths are read from the config file's folder."""

    literal_secrets: ClassVar[dict[str, str]] = {
        "key_password": "key_password_env",
        "password": "key_password_env",
    }

    client_cert: Path | None = Field(
        default=None, description="PEM certificate (chain) the hub presents to the server"
    )
    client_key: Path | None = Field(
        default=None, description="PEM private key of client_cert (default: in client_cert)"
    )
    key_password_env: EnvName | None = Field(
        default=None, description="the environment variable holding the key's password"
    )
    ca_file: Path | None = Field(
        default=None, description="PEM CA bundle to trust instead of the system's"
    )
    verify: bool = Field(
        default=True, description="check the server's certificate (false: tests only)"
    )

    _key_password: SecretStr | None = PrivateAttr(default=None)

    @field_validator("client_cert", "client_key", "ca_file")
    @classmethod
    def _existing_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        path = value.expanduser()
        path = path if path.is_absolute() else _config_folder(info) / path
        if not path.is_file():
            raise ValueError(
                f"no such file: {path} (a relative path is read from the config file's folder)"
            )
        return path

    @field_validator("key_password_env")
    @classmethod
    def _is_set(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            _read_variable(value, _environment(info))
        return value

    @model_validator(mode="after")
    def _loads(self, info: ValidationInfo) -> Self:
        if self.client_cert is None and (self.client_key or self.key_password_env):
            raise ValueError("client_key and key_password_env need client_cert")
        if not self.verify and self.ca_file is not None:
            raise ValueError("ca_file is not used with verify: false; drop one of them")
        if self.key_password_env is not None:
            self._key_password = SecretStr(
                _read_variable(self.key_password_env, _environment(info))
            )
        self.ssl_context()  # a file that does not load fails now, with the config's path
        return self

    def ssl_context(self) -> ssl.SSLContext:
        """A client SSL context: the system's CAs (or ``ca_file``), hostname checks unless
        ``verify`` is false, and the client certificate when there is one. Raises
        ``ValueError`` saying which file does not load."""
        try:
            context = ssl.create_default_context(
                cafile=None if self.ca_file is None else str(self.ca_file)
            )
        except ssl.SSLError as exc:
            raise ValueError(
                f"ca_file {self.ca_file} does not load as a PEM CA bundle ({exc.reason or exc})"
            ) from None
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.client_cert is not None:
            password = self._key_password
            try:
                context.load_cert_chain(
                    self.client_cert,
                    self.client_key,
                    password=_no_password if password is None else password.get_secret_value(),
                )
            except _NeedsPassword:
                raise ValueError(
                    "the client key is encrypted: set key_password_env to the name of the "
                    "environment variable holding its password"
                ) from None
            except ssl.SSLError as exc:
                raise ValueError(
                    f"client_cert {self.client_cert} and client_key "
                    f"{self.client_key or '(in client_cert)'} do not load: a PEM certificate "
                    f"and the matching private key are expected, and key_password_env must "
                    f"name the key's password ({exc.reason or exc.strerror or 'SSL error'})"
                ) from None
        return context
