"""The national axis' HTTP protocol (VDXP), as the VNPT SDK speaks it: request signing,
timestamps, the `hash-file` of an upload, the JSON answers with `ErrorCode`/`ErrorDesc`, and a
client of its operations (`gateway.vdxp.client`).

Both sides use it: the `vdxp` bridge adapter signs its calls to the axis, and the gateway's
façade (`gateway.api.vdxp`) verifies the calls of department systems that use the SDK. It is
protocol code only, like `gateway.edxml` is format code: it imports nothing of the gateway, so
adapters may import it beside `gateway.adapter_api` and `gateway.edxml` (docs/vdxp.md). The
façade's conformance driver, which does import the gateway, is gateway.conformance.facade_driver.
"""

from .answers import (
    FAIL,
    OK,
    SUCCESS_CODE,
    TRANSPORT_ACKS,
    AxisAnswer,
    dump_answer,
    fail_answer,
    ok_answer,
    read_answer,
)
from .calls import (
    AGENCIES_LIST,
    DELETE_AGENCY,
    GET_EDOC,
    MESSAGE_TYPES,
    RECEIVED_LIST,
    REGISTER_AGENCY,
    SEND_EDOC,
    SENT_LIST,
    SERVICE_TYPE,
    SYNCHRONIZE_UNIT,
    UPDATE_STATUS,
    UPLOAD_TYPE,
)
from .secret import SecretError, resolve_secret
from .signing import (
    HASH_HEADER,
    KEY_HEADER,
    PREFIX,
    SIGN_HEADER,
    SignedRequest,
    SigningError,
    clock_hint,
    hash_file_matches,
    parse_timestamp,
    sdk_hash_file,
    sdk_timestamp,
    sign_headers,
    verify_headers,
)

__all__ = [
    "AGENCIES_LIST",
    "DELETE_AGENCY",
    "FAIL",
    "GET_EDOC",
    "HASH_HEADER",
    "KEY_HEADER",
    "MESSAGE_TYPES",
    "OK",
    "PREFIX",
    "RECEIVED_LIST",
    "REGISTER_AGENCY",
    "SEND_EDOC",
    "SENT_LIST",
    "SERVICE_TYPE",
    "SIGN_HEADER",
    "SUCCESS_CODE",
    "SYNCHRONIZE_UNIT",
    "TRANSPORT_ACKS",
    "UPDATE_STATUS",
    "UPLOAD_TYPE",
    "AxisAnswer",
    "SecretError",
    "SignedRequest",
    "SigningError",
    "clock_hint",
    "dump_answer",
    "fail_answer",
    "hash_file_matches",
    "ok_answer",
    "parse_timestamp",
    "read_answer",
    "resolve_secret",
    "sdk_hash_file",
    "sdk_timestamp",
    "sign_headers",
    "verify_headers",
]
