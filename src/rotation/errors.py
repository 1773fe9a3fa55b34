"""The exceptions rotation raises, as one hierarchy users can catch.

Every error rotation raises on purpose derives from :class:`RotationError`, so
``except rotation.RotationError`` catches all of them and nothing else. The
subclasses say which layer failed and carry the context needed to fix the
input (file, line, key, provider, symbol, parameter)::

    RotationError
    ├── ConfigError            bad universe / settings / claims file
    │   └── UniverseError      universe file invalid (file, line, key named)
    ├── SourceError            a provider could not deliver (provider, symbol)
    │   ├── RateLimitedError   HTTP 429 still after the bounded retries
    │   ├── ProviderUnavailableError  5xx / timeouts after the bounded retries
    │   │   └── ConnectionFailedError  no connection at all (offline, DNS, refused)
    │   ├── SymbolNotFoundError       provider does not know the symbol
    │   └── MalformedResponseError    payload not in the provider's format
    ├── ImportFileError        a user file could not be imported (file, line, column)
    ├── StoreError             the embedded database failed or is unusable
    │   └── EmptyStoreError    nothing stored yet for what was asked
    ├── DataError              data present but unusable for the request
    └── ParameterError         a bad argument (also a ValueError)
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ConfigError",
    "ConnectionFailedError",
    "DataError",
    "EmptyStoreError",
    "ImportFileError",
    "MalformedResponseError",
    "ParameterError",
    "ProviderUnavailableError",
    "RateLimitedError",
    "RotationError",
    "SourceError",
    "StoreError",
    "SymbolNotFoundError",
    "UniverseError",
]


class RotationError(Exception):
    """Base class of every error rotation raises on purpose."""


class ConfigError(RotationError):
    """A configuration file or setting is invalid.

    Parameters
    ----------
    message : str
        What is wrong, in words a user can act on.
    file : str or Path, optional
        The file that holds the problem.
    line : int, optional
        1-based line number in ``file``.
    key : str, optional
        Dotted key path inside the file (``instruments.NVDA.asset_class``).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.key = key
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file:
            where.append(self.file if self.line is None else f"{self.file}:{self.line}")
        if self.key:
            where.append(f"key '{self.key}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class UniverseError(ConfigError):
    """The universe file is malformed or inconsistent."""


class SourceError(RotationError):
    """A data provider could not deliver what was asked.

    Attributes
    ----------
    provider : str
        Provider name (``yahoo``, ``fred``, ...).
    symbol : str or None
        The provider-side symbol that was requested.
    """

    def __init__(self, message: str, *, provider: str, symbol: str | None = None) -> None:
        self.provider = provider
        self.symbol = symbol
        self.message = message
        #: HTTP status and body of the response that caused the error, when there was one.
        self.status_code: int | None = None
        self.body: str | None = None
        self.headers: dict[str, str] | None = None
        target = f"{provider}:{symbol}" if symbol else provider
        super().__init__(f"{target}: {message}")


class RateLimitedError(SourceError):
    """HTTP 429 persisted after the bounded retries.

    Attributes
    ----------
    retry_after : float or None
        Seconds the provider asked to wait, when it said so.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        symbol: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, provider=provider, symbol=symbol)


class ProviderUnavailableError(SourceError):
    """Server errors (5xx), timeouts or connection failures after the bounded retries."""


class ConnectionFailedError(ProviderUnavailableError):
    """No connection could be made (offline, DNS failure, connection refused)."""


class SymbolNotFoundError(SourceError):
    """The provider does not know the requested symbol."""


class MalformedResponseError(SourceError):
    """The payload was not in the provider's documented format (or was truncated)."""


class ImportFileError(RotationError):
    """A user file could not be imported.

    Attributes
    ----------
    file : str
    line : int or None
        1-based line in the file (header is line 1) when known.
    column : str or None
        The column involved when known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = str(file)
        self.line = line
        self.column = column
        self.message = message
        where = self.file if line is None else f"{self.file}:{line}"
        if column:
            where += f" column '{column}'"
        super().__init__(f"{where}: {message}")


class StoreError(RotationError):
    """The embedded store failed or cannot be used."""


class EmptyStoreError(StoreError):
    """Nothing is stored for what was asked; the message says how to get data in."""


class DataError(RotationError):
    """Data exists but cannot answer the request (too short, all NaN, misaligned)."""


class ParameterError(RotationError, ValueError):
    """An argument is out of range or of the wrong kind.

    Attributes
    ----------
    parameter : str
        Name of the offending parameter.
    """

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        self.message = message
        super().__init__(f"{parameter}: {message}")
