"""AWS and engine errors in plain words, with the next step: what every page shows instead of a traceback."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    ReadTimeoutError,
)


@dataclass(frozen=True)
class Problem:
    title: str
    detail: str
    next_step: str
    code: str = ""

    def __str__(self) -> str:
        return f"{self.title}: {self.detail} {self.next_step}".strip()


def _permission(exc: ClientError) -> str:
    op = getattr(exc, "operation_name", "") or "the operation"
    return f"personalize:{op}"


def explain(exc: BaseException) -> Problem:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "") or ""
        message = error.get("Message", "") or str(exc)
        op = getattr(exc, "operation_name", "")
        if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation"):
            return Problem("Access denied", message,
                           f"Ask an administrator to grant {_permission(exc)} to your IAM role or user.", code)
        if code in ("ThrottlingException", "TooManyRequestsException", "Throttling", "RequestLimitExceeded"):
            return Problem("AWS is throttling requests", message,
                           "The dashboard already retried with backoff; wait a minute and try again.", code)
        if code == "LimitExceededException":
            return Problem("A service quota is reached", message,
                           "Delete resources you no longer need or request a quota increase in Service Quotas.",
                           code)
        if code == "ResourceInUseException":
            return Problem("The resource is busy", message,
                           "Wait until the running job finishes (its status is shown on this page), then retry.",
                           code)
        if code == "ResourceNotFoundException":
            return Problem("Not found", message,
                           "It may have been deleted, or belongs to another region or dataset group; refresh.",
                           code)
        if code == "ResourceAlreadyExistsException":
            return Problem("The name is taken", message, "Choose another name.", code)
        if code in ("InvalidInputException", "ValidationException", "SerializationException"):
            return Problem("AWS refused the request", message, "Correct the highlighted input and retry.", code)
        if code in ("UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException",
                    "ExpiredToken", "InvalidClientTokenId"):
            return Problem("Your AWS credentials were refused", message,
                           "Refresh your credentials (e.g. `aws sso login`) or check AWS_PROFILE.", code)
        return Problem(f"{op or 'The call'} failed", f"{code}: {message}",
                       "Retry; if it persists, check the AWS console for this resource.", code)
    if isinstance(exc, NoCredentialsError):
        return Problem("No AWS credentials", str(exc),
                       "Configure a profile (AWS_PROFILE) or run with PERSONALIZE_BACKEND=local.", "NoCredentials")
    if isinstance(exc, NoRegionError):
        return Problem("No AWS region", str(exc), "Set AWS_REGION, e.g. AWS_REGION=us-east-1.", "NoRegion")
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return Problem("Cannot reach the service", str(exc),
                       "Check the network, or, in local mode, restart the dashboard to restart the engine.",
                       "EndpointConnectionError")
    if isinstance(exc, ReadTimeoutError):
        return Problem("The service did not answer in time", str(exc), "Retry in a moment.", "ReadTimeout")
    if isinstance(exc, ParamValidationError):
        return Problem("Invalid input", str(exc), "Correct the input and retry.", "ParamValidationError")
    if isinstance(exc, BotoCoreError):
        return Problem("AWS client error", str(exc), "Retry; check your AWS configuration.", type(exc).__name__)
    return Problem("Something went wrong", f"{type(exc).__name__}: {exc}",
                   "Retry; if it persists, see the dashboard's log.", type(exc).__name__)


def error_code(exc: BaseException) -> str:
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
