"""Every real message in the samples folder: read, modelled, rebuilt, read again."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from gateway.edxml import (
    Document,
    Receiver,
    ReplacementInfo,
    ResponseFor,
    StatusMessage,
    TraceHeader,
    parse_message,
    read_xml,
    to_xml,
    validate,
)
from gateway.edxml.schema import schema_source
from gateway.errors import MalformedXml
from tests import samples as samples_module
from tests.samples import MISSING, sample_bytes, sample_names

MALFORMED = "sdk_edoc_new.edxml"  # four stray bytes "1212" before <?xml, as published


def document(name: str) -> Document:
    message = parse_message(sample_bytes(name))
    assert isinstance(message, Document)
    return message


def status(name: str) -> StatusMessage:
    message = parse_message(sample_bytes(name))
    assert isinstance(message, StatusMessage)
    return message


@pytest.mark.parametrize("name", sample_names())
def test_sample_round_trips_or_is_the_malformed_one(name: str) -> None:
    raw = sample_bytes(name)
    if name == MALFORMED:
        with pytest.raises(MalformedXml) as refused:
            parse_message(raw)
        assert "line 1," in refused.value.detail
        assert refused.value.extensions["line"] == 1
        return
    message = parse_message(raw)
    rebuilt = to_xml(message)
    validate(read_xml(rebuilt))
    assert parse_message(rebuilt) == message
    assert to_xml(parse_message(rebuilt)) == rebuilt


def test_every_sample_but_the_malformed_one_validates_against_the_xsd(samples: Path) -> None:
    names = sorted(p.name for p in samples.glob("*.edxml"))
    assert MALFORMED in names
    assert len(names) >= 20
    for name in names:
        if name != MALFORMED:
            validate(read_xml((samples / name).read_bytes()))


def test_the_malformed_sample_is_well_formed_after_its_four_stray_bytes() -> None:
    raw = sample_bytes(MALFORMED)
    assert raw[:4] == b"1212"
    assert document_from(raw[4:]).business_type == 0


def document_from(raw: bytes) -> Document:
    message = parse_message(raw)
    assert isinstance(message, Document)
    return message


def _layout(raw: bytes) -> list[str]:
    """Lines without indentation, CR, blank lines and the Signature block."""
    lines, in_signature = [], False
    for line in raw.decode("utf-8").replace("\r", "").split("\n"):
        line = line.strip()
        if line == "<Signature>":
            in_signature = True
        if line and not in_signature:
            lines.append(line)
        if line == "</Signature>":
            in_signature = False
    return lines


@pytest.mark.parametrize("name", ["sdk_edoc_update.edxml", "sdk_status.edxml"])
def test_rebuilt_bytes_have_exactly_the_layout_of_the_sdk_samples(name: str) -> None:
    raw = sample_bytes(name)
    assert _layout(to_xml(parse_message(raw))) == _layout(raw)


def test_bkav_new_reads_a_day_first_date_and_empty_elements_as_none() -> None:
    doc = document("bkav_edoc_new.edxml")
    assert doc.promulgation is not None
    assert doc.promulgation.place == "Tây Ninh"
    assert doc.promulgation.promulgation_date == date(2020, 10, 30)
    assert doc.sender.organ_id == "000.00.11.H53"
    assert doc.sender.organ_add is None
    assert doc.sender.telephone is None
    assert [r.organ_id for r in doc.recipients] == ["000.00.01.A53"]
    assert doc.signer is None  # <Competence/>, <Position/>, <FullName/>
    assert doc.due_date is None
    assert doc.other_info is not None
    assert doc.other_info.typer_notation is None
    assert doc.other_info.appendixes == ()
    assert doc.document_id == "000.00.11.H53,2020/10/30,2491/STC-BCTC"
    assert doc.business_type == 0


def test_bkav_update_and_status() -> None:
    update = document("bkav_edoc_update.edxml")
    assert update.business_type == 2
    assert len(update.recipients) == 3
    processing = status("bkav_status_processing_05.edxml")
    assert processing.status_code == "05"
    assert processing.timestamp == datetime(2015, 9, 20, 11, 8, 36)


def test_sdk_update_has_two_receivers_and_an_opaque_business_document_id() -> None:
    doc = document("sdk_edoc_update.edxml")
    assert doc.business_type == 2
    assert doc.business is not None
    assert doc.business.receivers == (
        Receiver("000.00.00.H41", 0),
        Receiver("000.00.00.H14", 1),
    )
    assert doc.business.document_id == "000.00.00.G22,2014/02/30,7806/VPCP-TTĐT"
    assert doc.business.reason == "Cập nhật văn bản điện tử"
    assert doc.business.document_info == "1"
    assert doc.business.document_receiver == "1"
    assert doc.business.staff_info is not None
    assert doc.business.staff_info.staff == "Nguyễn Thị Ngọc Trâm"
    assert doc.paper_copy is False
    assert [r.organ_id for r in doc.recipients] == [
        "000.00.00.H41",
        "000.00.00.H14",
        "000.00.00.G17",
    ]
    assert doc.code is not None
    assert (doc.code.code_number, doc.code.code_notation) == ("7816", "VPCP-TTĐT")
    assert doc.to_places == ("Cac bo va co quan ngang bo", "Uy ban nhan dan cac tinh, TP")
    assert doc.traces == (TraceHeader("000.00.00.G22", datetime(2018, 9, 28)),)
    [attachment] = doc.attachments
    assert attachment.content_id == "cid:209"
    assert attachment.content_type == "application/zip"
    assert attachment.content()[:4] == b"PK\x03\x04"
    assert len(attachment.content()) == 270823
    assert [m.content_id for m in doc.manifest] == ["cid:209"]


def test_sdk_revocation_answers_an_earlier_document() -> None:
    doc = document("sdk_edoc_revocation.edxml")
    assert doc.business_type == 1
    assert doc.response_for == ResponseFor(
        "000.00.00.H14",
        "267/VPCP-TTĐT",
        "000.00.04.G14,2012/08/06,267/VPCP-TTĐT",
        date(2018, 9, 28),
    )


def test_sdk_replacement_lists_what_it_replaces() -> None:
    doc = document("sdk_edoc_replacement.edxml")
    assert doc.business_type == 3
    assert doc.business is not None
    replaced = ReplacementInfo(
        "000.00.00.G22,2014/01/30,7806/VPCP-TTĐT", ("000.00.00.H41", "000.00.00.H14")
    )
    assert doc.business.replacements == (replaced, replaced)


def test_field_2019_has_odd_organ_ids_a_uuid_and_an_empty_response_for() -> None:
    doc = document("field_2019_test_production.edxml")
    assert doc.document_id == "9fbfbad2-f1f8-4256-a2eb-50fb1061cddb"
    assert [t.organ_id for t in doc.traces] == ["01.02.G22", "001.00.20.TT2"]
    assert doc.response_for is None  # <ResponseFor />
    assert doc.business is None
    assert doc.business_type == 0
    assert doc.document_type is not None
    assert doc.document_type.type_detail is None
    assert len(doc.recipients) == 1


def test_field_2025_lenient_trace_has_null_and_missing_trace_organ_ids() -> None:
    doc = document("field_2025_lenient_trace.edxml")
    assert doc.traces == (
        TraceHeader(None, datetime(2025, 10, 23, 16, 28, 42)),
        TraceHeader(None, datetime(2025, 10, 23, 16, 28, 43)),
    )
    assert doc.sender.organ_id == "vxp.saas.03"
    assert doc.sender.organ_name is None
    assert doc.code is not None
    assert doc.code.code_number == "BINTEST123"


def test_field_2025_b_is_urgent_with_two_appendixes_and_a_pdf() -> None:
    doc = document("field_2025_b.edxml")
    assert doc.priority == 1
    assert doc.other_info is not None
    assert doc.other_info.appendixes == ("Phụ lục 1", "Phụ lục 2")
    assert doc.other_info.direction is True
    assert doc.steering_type == "2"
    assert [r.organ_id for r in doc.recipients] == ["vxp.saas.03"]
    assert doc.attachments[0].content().startswith(b"%PDF")
    assert doc.subject == "Gộp 3 file"


@pytest.mark.parametrize(
    ("name", "code", "sender"),
    [
        ("sdk_status.edxml", "01", "000.00.00.H41"),
        ("sdk_status_inbox_01.edxml", "01", "000.00.00.H41"),
        ("sdk_status_rejection_02.edxml", "02", "000.00.00.H41"),
        ("sdk_status_acceptance_03.edxml", "03", "000.00.00.H41"),
        ("sdk_status_assignment_04.edxml", "04", "000.00.00.H41"),
        ("sdk_status_processing_05.edxml", "05", "000.00.00.H41"),
        ("sdk_status_finish_06.edxml", "06", "000.00.00.H41"),
        ("sdk_status_cancellation_13.edxml", "13", "000.00.00.G22"),
        ("sdk_status_change-acceptance_15.edxml", "15", "000.00.00.H41"),
        ("sdk_status_change-rejection_16.edxml", "16", "000.00.00.H41"),
    ],
)
def test_status_samples(name: str, code: str, sender: str) -> None:
    message = status(name)
    assert message.status_code == code
    assert message.sender.organ_id == sender
    assert message.response_for.document_id == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"


def test_sdk_status_fields() -> None:
    message = status("sdk_status.edxml")
    assert message.response_for == ResponseFor(
        "000.00.00.G22",
        "7816/VPCP-TTĐT",
        "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT",
        date(2018, 9, 28),
    )
    assert message.staff_info is not None
    assert message.staff_info.mobile == "84912000001"
    assert message.timestamp == datetime(2018, 9, 28, 17, 25, 11)
    assert message.description is not None
    assert message.description.startswith("Văn thư - Phòng Văn thư - Lưu trữ: Đã đến")


def test_a_missing_samples_folder_skips_outside_ci_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(samples_module, "SAMPLES_DIR", tmp_path / "absent")
    monkeypatch.delenv("CI", raising=False)
    assert sample_names() == [MISSING]
    with pytest.raises(pytest.skip.Exception):
        samples_module.samples_dir()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="missing and CI is set"):
        samples_module.sample_path("sdk_status.edxml")


def test_the_schema_is_found_in_the_checkout() -> None:
    source = schema_source()
    assert source.startswith(b"<?xml")
    assert b'targetNamespace="http://www.mic.gov.vn/TBT/QCVN_102_2016"' in source
