"""Every operation of both listeners fuzzed from its OpenAPI document (schemathesis): valid
and invalid parameters, headers and bodies, with each role's token. No answer is a server
error, every request is answered, and /healthz answers after each one."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode

from gateway.api.openapi import Listener, openapi_document
from tests.e2e.process import GatewayProcess
from tests.fuzz.conftest import FUZZ, REQUEST_TIMEOUT_S
from tests.harness import AUDITOR_TOKEN, FINANCE, OPERATOR_TOKEN, bearer

TOKENS = {"agency": FINANCE.token, "operator": OPERATOR_TOKEN, "auditor": AUDITOR_TOKEN}


@schemathesis.serializer("application/xml", "text/xml", "application/edxml+xml", "text/csv")
def raw_text(ctx: Any, value: Any) -> bytes:
    """Bodies the documents describe as strings go out as their bytes, as a client sends them."""
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")


def operations(listener: Listener) -> list[Any]:
    schema = schemathesis.openapi.from_dict(json.loads(openapi_document(listener)))
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        found.append(pytest.param(listener, operation, id=f"{listener}: {operation.label}"))
    return found


def cases(operation: APIOperation) -> st.SearchStrategy[Case]:
    valid = operation.as_strategy(GenerationMode.POSITIVE)
    inputs = (operation.query, operation.path_parameters, operation.body)
    if not any(len(group) for group in inputs):
        return valid  # nothing in it can be invalid
    return st.one_of(valid, operation.as_strategy(GenerationMode.NEGATIVE))


def base_url(gateway: GatewayProcess, listener: Listener) -> str:
    return gateway.url if listener == "agency" else gateway.ops_url


@pytest.mark.parametrize(("listener", "operation"), operations("agency") + operations("ops"))
def test_no_generated_request_gets_a_server_error(
    live: GatewayProcess, listener: Listener, operation: APIOperation
) -> None:
    role = operation.definition.raw["tags"][0]  # the roles it admits: fuzzing as one is enough
    auth = bearer(TOKENS[role]) if role in TOKENS else {}
    url = base_url(live, listener)
    session = requests.Session()
    answered: dict[int, int] = {}

    @FUZZ
    @given(case=cases(operation))
    def fuzz(case: Case) -> None:
        response = case.call(base_url=url, session=session, headers=auth, timeout=REQUEST_TIMEOUT_S)
        answered[response.status_code] = answered.get(response.status_code, 0) + 1
        sent = case.as_curl_command(headers=auth, base_url=url)
        assert response.status_code < 500, f"{response.status_code} {response.text[:300]}\n{sent}"
        health = session.get(live.ops_url + "/healthz", timeout=REQUEST_TIMEOUT_S)
        assert health.status_code == 200, f"/healthz {health.status_code} after\n{sent}"

    fuzz()
    assert answered, "no request was sent"
