"""`edocgw send | inbox | fetch | status | ack` as a department runs them: real processes
against a gateway listening in the test process."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from gateway.client import build_document
from gateway.edxml import StatusMessage, parse_message
from tests.client.conftest import signing_files, url_of
from tests.conftest import Net
from tests.harness import FINANCE, HOME_AFFAIRS, Org, free_port
from tests.trust.keys import KeyRing
from tests.waiting import eventually


async def edocgw(
    *args: str, agency: Org | None = None, url: str | None = None
) -> tuple[int, bytes, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDOCGW_")}
    if agency is not None:
        env["EDOCGW_TOKEN"] = agency.token
    if url is not None:
        env["EDOCGW_URL"] = url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out, err.decode()


def document_file(folder: Path, document_id: str) -> tuple[Path, bytes]:
    raw = build_document(
        FINANCE.id,
        [HOME_AFFAIRS.id],
        subject="V/v thử dòng lệnh",
        number="7",
        notation="STC",
        document_id=document_id,
    )
    path = folder / f"{document_id}.edxml"
    path.write_bytes(raw)
    return path, raw


async def test_a_department_works_its_mailbox_from_the_shell(net: Net, tmp_path: Path) -> None:
    url = url_of(net)
    path, raw = document_file(tmp_path, "CLI-1")

    code, out, _ = await edocgw("send", str(path), agency=FINANCE, url=url)
    assert code == 0
    receipt = json.loads(out)
    assert (receipt["document_id"], receipt["replayed"]) == ("CLI-1", False)

    await eventually(lambda: net[HOME_AFFAIRS.id].inbox_all(), lambda items: len(items) == 1)
    saved = tmp_path / "saved.edxml"
    listing, table, fetched, written = await asyncio.gather(
        edocgw("inbox", "--json", agency=HOME_AFFAIRS, url=url),
        edocgw("inbox", "--url", url, agency=HOME_AFFAIRS),
        edocgw("fetch", receipt["recipients"][0]["delivery_id"], agency=HOME_AFFAIRS, url=url),
        edocgw(
            "fetch", receipt["recipients"][0]["delivery_id"], "-o", str(saved),
            agency=HOME_AFFAIRS, url=url,
        ),
    )  # fmt: skip

    [item] = json.loads(listing[1])["items"]
    delivery_id = item["delivery_id"]
    assert delivery_id == receipt["recipients"][0]["delivery_id"]
    assert (item["sender"], item["document_id"]) == (FINANCE.id, "CLI-1")
    header, _, row = table[1].decode().splitlines()
    assert header.split() == [
        "delivery_id", "kind", "sender", "document_id", "priority", "received_at", "size"
    ]  # fmt: skip
    assert row.split()[:4] == [delivery_id, "edoc", FINANCE.id, "CLI-1"]
    assert fetched[:2] == (0, raw)
    assert (written[0], saved.read_bytes()) == (0, raw)

    code, out, _ = await edocgw(
        "status", "--about", delivery_id, "--code", "03", "--from", HOME_AFFAIRS.id,
        agency=HOME_AFFAIRS, url=url,
    )  # fmt: skip
    assert (code, json.loads(out)["to"]) == (0, FINANCE.id)

    code, out, _ = await edocgw("ack", delivery_id, agency=HOME_AFFAIRS, url=url)
    assert (code, out.decode()) == (0, f"acknowledged {delivery_id}\n")
    assert await net[HOME_AFFAIRS.id].inbox_all() == []
    [status] = await net[FINANCE.id].inbox_all(kind="status")
    _, body = await net[FINANCE.id].fetch(status["delivery_id"])
    message = parse_message(body)
    assert isinstance(message, StatusMessage)
    assert (message.status_code, message.response_for.document_id) == ("03", "CLI-1")


async def test_failures_say_why_and_exit_non_zero(net: Net, tmp_path: Path) -> None:
    broken = tmp_path / "broken.edxml"
    broken.write_bytes(b"<edXML><unclosed>")

    refused, no_token, unreachable, missing = await asyncio.gather(
        edocgw("send", str(broken), agency=FINANCE, url=url_of(net)),
        edocgw("inbox", url=url_of(net)),
        edocgw("inbox", agency=FINANCE, url=f"http://127.0.0.1:{free_port()}"),
        edocgw("send", str(tmp_path / "none.edxml"), agency=FINANCE, url=url_of(net)),
    )

    assert refused[0] == 1
    assert refused[2].startswith("edocgw: 400 malformed_xml: ")
    assert (no_token[0], no_token[2]) == (
        1,
        "edocgw: give the agency's token with --token or EDOCGW_TOKEN\n",
    )
    assert unreachable[0] == 2
    assert unreachable[2].startswith("edocgw: cannot reach the gateway: GET http://127.0.0.1:")
    assert missing[0] == 1
    assert "none.edxml: No such file or directory" in missing[2]


async def test_send_signs_with_the_agencys_key(
    signed_net: Net, ring: KeyRing, tmp_path: Path
) -> None:
    files = signing_files(ring, FINANCE.id, tmp_path)
    path, _ = document_file(tmp_path, "CLI-SIGNED")
    url = url_of(signed_net)

    unsigned, signed, half = await asyncio.gather(
        edocgw("send", str(path), agency=FINANCE, url=url),
        edocgw(
            "send", str(path), "--sign-key", str(files.key), "--sign-cert", str(files.cert),
            "--sign-chain", str(files.chain), agency=FINANCE, url=url,
        ),
        edocgw("send", str(path), "--sign-key", str(files.key), agency=FINANCE, url=url),
    )  # fmt: skip

    assert unsigned[0] == 1
    assert unsigned[2].startswith("edocgw: 422 signature_missing: ")
    assert signed[0] == 0
    assert json.loads(signed[1])["document_id"] == "CLI-SIGNED"
    assert half[0] == 2
    assert "--sign-key and --sign-cert go together" in half[2]
