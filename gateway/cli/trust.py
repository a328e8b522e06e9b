"""`edocgw pki`, `edocgw sign`, `edocgw verify`: the trust layer's commands.

`verify` runs the gateway's own checks (gateway.trust.check.check_message) with the trust
material and the sender's policies from a configuration file: exit 0 when the gateway would
accept the message's signatures, 1 with the reason when it would refuse them.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from gateway.cli._common import settings_or_exit
from gateway.config import ConfigError, Settings
from gateway.directory import Directory
from gateway.edxml import XmlLimits, message_from_tree, read_xml, validate
from gateway.errors import GatewayError
from gateway.trust.check import check_message
from gateway.trust.material import open_trust_store
from gateway.trust.pki import PkiExists, init_pki, revoke
from gateway.trust.policy import DEFAULT_POLICY
from gateway.trust.sign import SigningError, load_signer, sign_message
from gateway.trust.xmldsig import XmlSignatureVerifier


def add_subcommands(sub: Any) -> None:
    """Add pki, sign and verify to the `edocgw` parser's subcommands."""
    pki = sub.add_parser(
        "pki", help="a development PKI: root and issuing CA, agency certificates, CRLs"
    )
    actions = pki.add_subparsers(dest="pki_command", required=True, metavar="ACTION")
    init = actions.add_parser(
        "init",
        help="create a PKI in DIR and print the configuration that trusts it",
        description="Writes root.pem, intermediate.pem, root.crl.pem, intermediate.crl.pem, "
        "server.pem (TLS) and, per agency, agencies/ID.pem (signing, UID = ID) and "
        "agencies/ID.tls.pem (TLS client), each with its .key (mode 0600), and trust.toml.",
    )
    init.add_argument("dir", type=Path)
    init.add_argument(
        "--agency",
        action="append",
        required=True,
        type=_agency,
        metavar="ID[:NAME]",
        help="an agency to issue certificates to (repeat for each)",
    )
    init.add_argument("--days", type=float, default=825, help="validity of the certificates")
    init.set_defaults(func=cmd_pki_init)
    revoker = actions.add_parser(
        "revoke", help="add CERT to the CRL of the PKI's CA that issued it (then reload)"
    )
    revoker.add_argument("dir", type=Path)
    revoker.add_argument("cert", type=Path)
    revoker.set_defaults(func=cmd_pki_revoke)

    sign = sub.add_parser(
        "sign", help="sign an edXML message (XML-DSig in edXMLHeader); writes it to stdout"
    )
    sign.add_argument("--key", type=Path, required=True, help="PEM private key (unencrypted)")
    sign.add_argument("--cert", type=Path, required=True, help="its PEM certificate")
    sign.add_argument(
        "--chain", type=Path, action="append", default=[], help="PEM CA certificates to include"
    )
    sign.add_argument("input", type=Path, help="the message ('-' for stdin)")
    sign.set_defaults(func=cmd_sign)

    verify = sub.add_parser(
        "verify",
        help="check a message's signatures as the gateway does (exit 0 valid, 1 refused)",
    )
    verify.add_argument("--config", type=Path, required=True, help="the gateway's TOML file")
    verify.add_argument("input", type=Path, help="the message ('-' for stdin)")
    verify.set_defaults(func=cmd_verify)


def _agency(text: str) -> tuple[str, str]:
    organ_id, _, name = text.partition(":")
    if not organ_id:
        raise argparse.ArgumentTypeError(f"{text!r}: give ID or ID:NAME")
    return organ_id, name or organ_id


def _read(path: Path) -> bytes:
    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SystemExit(f"edocgw: {path}: {exc.strerror}") from None


def cmd_pki_init(args: argparse.Namespace) -> int:
    try:
        pki = init_pki(args.dir, args.agency, days=args.days)
    except PkiExists as exc:
        print(f"edocgw: {exc}", file=sys.stderr)
        return 1
    print(f"# development PKI written to {args.dir} (also in {args.dir / 'trust.toml'})")
    print(pki.snippet(), end="")
    return 0


def cmd_pki_revoke(args: argparse.Namespace) -> int:
    try:
        cert = x509.load_pem_x509_certificate(_read(args.cert))
        crl = revoke(args.dir, cert)
    except (OSError, ValueError) as exc:
        print(f"edocgw: {exc}", file=sys.stderr)
        return 1
    print(f"{args.cert} revoked in {crl}; reload the gateway (SIGHUP or POST /v1/ops/trust/reload)")
    return 0


def cmd_sign(args: argparse.Namespace) -> int:
    try:
        key, cert, chain = load_signer(args.key, args.cert, args.chain)
        signed = sign_message(_read(args.input), key, cert, chain)
    except (SigningError, GatewayError) as exc:
        print(f"edocgw: cannot sign: {exc}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(signed)
    sys.stdout.buffer.flush()
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    settings = settings_or_exit(args.config)
    try:
        verifier = XmlSignatureVerifier(open_trust_store(settings), DEFAULT_POLICY)
    except ConfigError as exc:
        raise SystemExit(f"edocgw: configuration error: {exc}") from None
    raw = _read(args.input)
    try:
        record = _verify(settings, verifier, raw)
    except GatewayError as error:
        print(f"refused: {error.code}: {error.detail}", file=sys.stderr)
        return 1
    print(json.dumps(record, indent=2, ensure_ascii=False))
    return 0


def _verify(settings: Settings, verifier: XmlSignatureVerifier, raw: bytes) -> dict[str, Any]:
    limits = XmlLimits(
        max_bytes=settings.limits.max_document_bytes, max_depth=settings.limits.max_xml_depth
    )
    root = read_xml(raw, limits)
    validate(root)
    message = message_from_tree(root)
    sender = message.sender.organ_id
    agency = Directory(settings).get(sender)
    if agency is None:
        raise _UnknownSender(
            f"the sender {sender} (From/OrganId) is not an agency of this configuration"
        )
    at = datetime.now(UTC)
    return check_message(verifier, raw, root, message, agency, at).record


class _UnknownSender(GatewayError):
    code = "unknown_sender"
