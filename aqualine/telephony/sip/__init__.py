"""The SIP message layer: parsing, serialising, framing and validating SIP messages."""

from aqualine.telephony.sip.build import (
    build_response,
    new_branch,
    new_call_id,
    new_tag,
    response_for_parse_error,
)
from aqualine.telephony.sip.errors import SipFramingError, SipParseError
from aqualine.telephony.sip.fields import (
    BRANCH_COOKIE,
    WILDCARD,
    CSeq,
    MediaType,
    NameAddr,
    Via,
    Wildcard,
)
from aqualine.telephony.sip.framing import StreamFramer
from aqualine.telephony.sip.headers import Headers
from aqualine.telephony.sip.message import Message, Request, Response
from aqualine.telephony.sip.params import Params
from aqualine.telephony.sip.parser import parse_message
from aqualine.telephony.sip.uri import AbsoluteUri, SipUri, TelUri, Uri, parse_uri, uris_equal
from aqualine.telephony.sip.validate import ValidationFailure, validate_request, validate_response

__all__ = [
    "BRANCH_COOKIE",
    "WILDCARD",
    "AbsoluteUri",
    "CSeq",
    "Headers",
    "MediaType",
    "Message",
    "NameAddr",
    "Params",
    "Request",
    "Response",
    "SipFramingError",
    "SipParseError",
    "SipUri",
    "StreamFramer",
    "TelUri",
    "Uri",
    "ValidationFailure",
    "Via",
    "Wildcard",
    "build_response",
    "new_branch",
    "new_call_id",
    "new_tag",
    "parse_message",
    "parse_uri",
    "response_for_parse_error",
    "uris_equal",
    "validate_request",
    "validate_response",
]
