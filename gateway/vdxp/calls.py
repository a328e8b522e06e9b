"""The axis operations the gateway speaks (both as a client and as the façade), and the values
the SDK puts in their parameters."""

from __future__ import annotations

from typing import Final

SEND_EDOC: Final = "sendEdoc"
RECEIVED_LIST: Final = "getReceivedEdocList"
GET_EDOC: Final = "getEdoc"
UPDATE_STATUS: Final = "updateStatus"
AGENCIES_LIST: Final = "getAgenciesList"
SENT_LIST: Final = "getSentEdocList"
SYNCHRONIZE_UNIT: Final = "getSynchronizeUnit"
# the axis' administration of its directory: the façade refuses them (the city's operators
# keep the gateway's directory in its configuration)
REGISTER_AGENCY: Final = "registerAgency"
DELETE_AGENCY: Final = "deleteAgency"

SERVICE_TYPE: Final = "eDoc"  # `servicetype` of every document and status call
MESSAGE_TYPES: Final = ("edoc", "status")  # `messagetype`: the SDK's MessageType enum
UPLOAD_TYPE: Final = "application/octet-stream"  # what SDKVXP 2.0.1 ends up sending to sendEdoc
