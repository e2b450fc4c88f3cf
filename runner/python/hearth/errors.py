"""Typed errors of the Hearth client.

Every error the client raises is a :class:`HearthError`.  An error the
scheduler answered carries its HTTP ``status`` and ``reason``, the one line
of the server's JSON ``{"error": "..."}`` that names the problem and the fix.
Connection failures are :class:`Unreachable` (``status`` is ``None``), and a
call the client refuses before sending anything is :class:`UsageError`.

==========================  ======  =======================================
class                       status  when
==========================  ======  =======================================
:class:`BadRequest`         400     a refused value: nothing was queued
:class:`Unauthorized`       401     no token, or a token the server does
                                    not know
:class:`Forbidden`          403     the token's role does not allow it
:class:`NotFound`           404     no such job, or another tenant's
:class:`Conflict`           409     the job's state does not allow it
:class:`ServerError`        5xx     a fault of the scheduler
:class:`Unreachable`        None    the scheduler did not answer
:class:`UsageError`         None    refused by the client (also a
                                    ``ValueError``)
==========================  ======  =======================================

Other statuses (413 body too large, 415, ...) raise the base class.
"""

from typing import Optional

__all__ = [
    "HearthError",
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "ServerError",
    "Unreachable",
    "UsageError",
    "error_for_status",
]


class HearthError(Exception):
    """Base of every error of the client.

    Attributes:
        status: the HTTP status the scheduler answered, or ``None`` when
            there was no answer (:class:`Unreachable`) or the client refused
            the call itself (:class:`UsageError`).
        reason: the server's reason (its JSON ``error``), or the client's.
        method, url: the request that failed, when there was one.
    """

    def __init__(self, reason: str, status: Optional[int] = None, method: str = "", url: str = ""):
        self.status = status
        self.reason = reason
        self.method = method
        self.url = url
        super().__init__(self._text())

    def _text(self) -> str:
        where = f"{self.method} {self.url}: " if self.url else ""
        code = f"{self.status} " if self.status is not None else ""
        return f"{where}{code}{self.reason}"


class BadRequest(HearthError):
    """400: the server refused a value (the reason names the field and the fix)."""


class Unauthorized(HearthError):
    """401: no token was sent, or the server does not know it."""


class Forbidden(HearthError):
    """403: the token is valid but its role does not allow this."""


class NotFound(HearthError):
    """404: no such job (or another tenant's: the server does not tell them apart)."""


class Conflict(HearthError):
    """409: the job's state does not allow the action."""


class ServerError(HearthError):
    """5xx: a fault of the scheduler (or 503: too many event streams)."""


class Unreachable(HearthError):
    """The scheduler could not be reached (refused, timed out, TLS failure)."""


class UsageError(HearthError, ValueError):
    """The client refused the call before sending anything (a bad argument,
    a missing file, no server or token configured)."""


_BY_STATUS = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict}


def error_for_status(status: int, reason: str, method: str = "", url: str = "") -> HearthError:
    """The typed error for an HTTP status and the server's reason."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if 500 <= status <= 599 else HearthError
    return cls(reason, status=status, method=method, url=url)
