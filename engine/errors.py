"""Typed errors that carry the AWS error code, so the HTTP layer can answer exactly as AWS does.

boto3 turns `{"__type": "<Code>", "message": ...}` into `client.exceptions.<Code>`, so the class
names below are part of the contract.
"""

from __future__ import annotations


class PersonalizeError(Exception):
    code = "InternalFailure"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputException(PersonalizeError):
    code = "InvalidInputException"


class ResourceNotFoundException(PersonalizeError):
    code = "ResourceNotFoundException"


class ResourceAlreadyExistsException(PersonalizeError):
    code = "ResourceAlreadyExistsException"


class ResourceInUseException(PersonalizeError):
    code = "ResourceInUseException"


class LimitExceededException(PersonalizeError):
    code = "LimitExceededException"


class InvalidNextTokenException(PersonalizeError):
    code = "InvalidNextTokenException"


class TooManyTagsException(PersonalizeError):
    code = "TooManyTagsException"


class TooManyTagKeysException(PersonalizeError):
    code = "TooManyTagKeysException"


# Protocol-level errors AWS answers with for requests it cannot even decode.
class SerializationException(PersonalizeError):
    code = "SerializationException"


class UnknownOperationException(PersonalizeError):
    code = "UnknownOperationException"


class RequestEntityTooLargeException(PersonalizeError):
    code = "RequestEntityTooLargeException"
    status = 413


class AccessDeniedException(PersonalizeError):
    code = "AccessDeniedException"
    status = 403


class RouteNotFoundException(UnknownOperationException):
    """No operation lives at this method and path (AWS answers a 404 with UnknownOperationException)."""

    status = 404


class LengthRequiredException(PersonalizeError):
    code = "LengthRequiredException"
    status = 411


# What AWS answers when a request is not signed with the engine's key pair (see engine.auth).
class MissingAuthenticationTokenException(PersonalizeError):
    code = "MissingAuthenticationTokenException"
    status = 403


class UnrecognizedClientException(PersonalizeError):
    code = "UnrecognizedClientException"
    status = 403


class InvalidSignatureException(PersonalizeError):
    code = "InvalidSignatureException"
    status = 403


class IncompleteSignatureException(PersonalizeError):
    code = "IncompleteSignatureException"
    status = 403
