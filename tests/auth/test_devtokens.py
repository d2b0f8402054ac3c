"""``ecehub token``: a dev ES256 key made once (private 0600), tokens that verify with the
public JWK written next to it."""

from __future__ import annotations

import contextlib
import io
import json
import stat
from pathlib import Path

from ecehub.auth import TokenVerifier
from ecehub.auth.devtokens import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, DevKey, dev_auth_config
from ecehub.cli import main


def _mint(key_dir: Path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["token", "--key-dir", str(key_dir), *args])
    assert code == 0, err.getvalue()
    return out.getvalue().strip(), err.getvalue()


async def test_ecehub_token_verifies_with_the_written_public_key(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    token, note = _mint(
        keys,
        "--role",
        "ta_staff",
        "--program",
        "UHJvZ3JhbTox",
        "--program",
        "UHJvZ3JhbToy",
        "--sub",
        "coach@qris.example",
        "--ttl",
        "600",
    )
    assert stat.S_IMODE((keys / PRIVATE_KEY_FILE).stat().st_mode) == 0o600
    public = json.loads((keys / PUBLIC_KEY_FILE).read_text())
    assert "d" not in public and public["alg"] == "ES256"
    assert str(keys / PUBLIC_KEY_FILE) in note

    verifier = TokenVerifier.from_config(dev_auth_config(DevKey.load_or_create(keys)))
    principal = await verifier.verify(token)
    assert principal.user == "coach@qris.example"
    assert principal.claims["roles"] == ["ta_staff"]
    assert principal.claims["programs"] == ["UHJvZ3JhbTox", "UHJvZ3JhbToy"]
    assert principal.claims["exp"] - principal.claims["iat"] == 600


async def test_the_key_is_made_once(tmp_path: Path) -> None:
    first, _ = _mint(tmp_path, "--role", "admin")
    private = (tmp_path / PRIVATE_KEY_FILE).read_bytes()
    second, _ = _mint(tmp_path, "--role", "admin")
    assert (tmp_path / PRIVATE_KEY_FILE).read_bytes() == private
    verifier = TokenVerifier.from_config(dev_auth_config(DevKey.load_or_create(tmp_path)))
    for token in (first, second):
        assert (await verifier.verify(token)).user == "dev-user"
