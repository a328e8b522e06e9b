"""`edocgw pki init`, `sign`, `verify` and `pki revoke`, as an operator uses them."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from gateway.api.auth import token_sha256
from gateway.cli.main import main
from tests.factories import document_bytes
from tests.harness import FINANCE, HOME_AFFAIRS

AGENCIES = (FINANCE, HOME_AFFAIRS)


def run(capsys: pytest.CaptureFixture[bytes], *argv: str) -> tuple[int, bytes, str]:
    with pytest.raises(SystemExit) as ended:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(ended.value.code or 0), out, err.decode()


@pytest.fixture
def pki_dir(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> Path:
    folder = tmp_path / "pki"
    args = [f"--agency={a.id}:{a.name}" for a in AGENCIES]
    code, out, _ = run(capsysbinary, "pki", "init", str(folder), *args)
    assert code == 0
    assert b'anchors = ["' in out and b'signature = "required"' in out
    return folder


def config(tmp_path: Path, pki_dir: Path) -> Path:
    path = tmp_path / "gateway.toml"
    lines = (pki_dir / "trust.toml").read_text().splitlines()
    for agency in AGENCIES:
        lines += [
            "[[agencies]]",
            f'id = "{agency.id}"',
            f'name = "{agency.name}"',
            f'token_sha256 = "{token_sha256(agency.token)}"',
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_pki_init_writes_a_pki_once(
    pki_dir: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    for name in ("root.pem", "intermediate.pem", "root.crl.pem", "intermediate.crl.pem"):
        assert (pki_dir / name).is_file()
    key = pki_dir / "agencies" / f"{FINANCE.id}.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (pki_dir / "agencies" / f"{FINANCE.id}.tls.pem").is_file()
    code, _, err = run(capsysbinary, "pki", "init", str(pki_dir), f"--agency={FINANCE.id}")
    assert code == 1
    assert "never overwritten" in err


def test_sign_then_verify_with_the_gateways_checks(
    pki_dir: Path, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    message = tmp_path / "in.edxml"
    message.write_bytes(document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,)))
    agency = pki_dir / "agencies"
    code, signed, _ = run(
        capsysbinary,
        "sign",
        "--key",
        str(agency / f"{FINANCE.id}.key"),
        "--cert",
        str(agency / f"{FINANCE.id}.pem"),
        "--chain",
        str(pki_dir / "intermediate.pem"),
        str(message),
    )
    assert code == 0
    assert b"<ds:Signature" in signed
    out = tmp_path / "out.edxml"
    out.write_bytes(signed)
    gateway_toml = config(tmp_path, pki_dir)

    code, printed, _ = run(capsysbinary, "verify", "--config", str(gateway_toml), str(out))
    assert code == 0
    record = json.loads(printed)
    assert (record["status"], record["organ_id"]) == ("verified", FINANCE.id)

    out.write_bytes(signed.replace(b"V/v th", b"V/v kh", 1))
    code, _, err = run(capsysbinary, "verify", "--config", str(gateway_toml), str(out))
    assert code == 1
    assert err.startswith("refused: signature_invalid: the message was changed after")

    code, _, err = run(capsysbinary, "verify", "--config", str(gateway_toml), str(message))
    assert code == 1
    assert err.startswith(f"refused: signature_missing: {FINANCE.id} must sign")


def test_a_revoked_certificate_is_refused_after_pki_revoke(
    pki_dir: Path, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    agency = pki_dir / "agencies"
    message = tmp_path / "in.edxml"
    message.write_bytes(document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,)))
    _, signed, _ = run(
        capsysbinary,
        "sign",
        "--key",
        str(agency / f"{FINANCE.id}.key"),
        "--cert",
        str(agency / f"{FINANCE.id}.pem"),
        str(message),
    )
    (tmp_path / "out.edxml").write_bytes(signed)
    code, _, _ = run(capsysbinary, "pki", "revoke", str(pki_dir), str(agency / f"{FINANCE.id}.pem"))
    assert code == 0
    code, _, err = run(
        capsysbinary,
        "verify",
        "--config",
        str(config(tmp_path, pki_dir)),
        str(tmp_path / "out.edxml"),
    )
    assert code == 1
    assert err.startswith("refused: certificate_revoked:")


def test_check_config_reads_the_trust_material(
    pki_dir: Path, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    gateway_toml = config(tmp_path, pki_dir)
    assert run(capsysbinary, "check-config", str(gateway_toml))[0] == 0
    (pki_dir / "intermediate.crl.pem").write_text("junk")
    with pytest.raises(SystemExit, match=r"trust\.crls\[1\]"):
        main(["check-config", str(gateway_toml)])
