"""What an OPC UA failure means for a connector. Pure: an exception in, a ``ConnectorError``
out, its code ``opcua.<StatusCode name>``.

* The server refused who we are (identity token, user rights, certificates, security
  policy) → ``AuthError``: trying again does not help until someone changes a setting.
* The link failed (refused, timed out, closed, the server shutting down) → ``ConnectError``.
  Socket errors have no status code of their own and are given the nearest one: a refused
  connection is ``BadConnectionRejected``, a timeout ``BadTimeout``, a dropped link
  ``BadConnectionClosed``, any other network error ``BadCommunicationError``.
  A server that has no endpoint with the configured security policy and mode is refusing
  it too (``BadSecurityPolicyRejected``).
* Anything else the server answers with a Bad status → ``ProtocolError``; a library error
  without a status code → ``ProtocolError`` coded ``opcua.<exception type>``.
"""

from __future__ import annotations

from asyncua.ua.uaerrors import UaError, UaStatusCodeError

from hazwatch.connectors.base import AuthError, ConnectError, ConnectorError, ProtocolError
from hazwatch.connectors.opcua.decode import status_name

PREFIX = "opcua."

AUTH_CODES: frozenset[str] = frozenset(
    {
        "BadIdentityTokenInvalid",
        "BadIdentityTokenRejected",
        "BadUserAccessDenied",
        "BadUserSignatureInvalid",
        "BadCertificateInvalid",
        "BadCertificateUntrusted",
        "BadCertificateUriInvalid",
        "BadCertificateTimeInvalid",
        "BadCertificateHostNameInvalid",
        "BadCertificateRevoked",
        "BadCertificateUseNotAllowed",
        "BadApplicationSignatureInvalid",
        "BadSecurityChecksFailed",
        "BadSecurityPolicyRejected",
        "BadSecurityModeRejected",
    }
)
LINK_CODES: frozenset[str] = frozenset(
    {
        "BadTimeout",
        "BadRequestTimeout",
        "BadCommunicationError",
        "BadConnectionRejected",
        "BadConnectionClosed",
        "BadDisconnect",
        "BadNotConnected",
        "BadServerNotConnected",
        "BadSecureChannelClosed",
        "BadSecureChannelIdInvalid",
        "BadSessionClosed",
        "BadSessionIdInvalid",
        "BadSessionNotActivated",
        "BadShutdown",
        "BadServerHalted",
        "BadNoCommunication",
        "BadNoSubscription",
        "BadSubscriptionIdInvalid",
        "BadTooManySessions",
        "BadServerTooBusy",
        "BadTcpServerTooBusy",
        "BadResourceUnavailable",
    }
)


def from_status(status: int, message: str) -> ConnectorError:
    """The connector error for a Bad status the server answered with."""
    name = status_name(status)
    code = PREFIX + name
    if name in AUTH_CODES:
        return AuthError(f"{message}: {name}", code=code)
    if name in LINK_CODES:
        return ConnectError(f"{message}: {name}", code=code)
    return ProtocolError(f"{message}: {name}", code=code)


def from_exception(exc: BaseException) -> ConnectorError:
    """The connector error for whatever the library or the socket raised."""
    if isinstance(exc, ConnectorError):
        return exc
    text = str(exc) or type(exc).__name__
    if isinstance(exc, UaStatusCodeError):
        return from_status(int(exc.code), text)
    if isinstance(exc, UaError) and text.startswith("No matching endpoints"):
        return AuthError(
            f"the server offers no endpoint with this security policy and mode ({text})",
            code=PREFIX + "BadSecurityPolicyRejected",
        )
    if isinstance(exc, ConnectionRefusedError):
        return ConnectError(f"connection refused: {text}", code=PREFIX + "BadConnectionRejected")
    if isinstance(exc, TimeoutError):  # asyncio.TimeoutError too, since 3.11
        return ConnectError("no answer in time", code=PREFIX + "BadTimeout")
    if isinstance(exc, ConnectionError | EOFError):
        return ConnectError(f"connection lost: {text}", code=PREFIX + "BadConnectionClosed")
    if isinstance(exc, OSError):
        return ConnectError(f"network error: {text}", code=PREFIX + "BadCommunicationError")
    return ProtocolError(f"{type(exc).__name__}: {text}", code=PREFIX + type(exc).__name__)
