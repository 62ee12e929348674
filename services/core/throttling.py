"""The one throttling policy for Personalize's runtime calls (GetRecommendations, GetPersonalizedRanking).

Runtime calls back off here, not in boto3: the runtime client is built with a single attempt (see
services.core.clients), so a call is tried at most MAX_ATTEMPTS times, never boto3's attempts times
ours. Backing off here lets the side-by-side grid count the calls AWS throttled and say so on the page.
Control-plane calls (List*, Describe*, Create*) have no backoff of their own: boto3's adaptive retry
mode is theirs.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from services.core.aws_errors import error_code

THROTTLING_CODES = {"ThrottlingException", "TooManyRequestsException", "Throttling"}
MAX_ATTEMPTS = 6
BASE_DELAY = 0.2
MAX_DELAY = 5.0


def call_with_backoff(
    fn: Callable[[], Any],
    *,
    attempts: int = MAX_ATTEMPTS,
    base_delay: float = BASE_DELAY,
    max_delay: float = MAX_DELAY,
    sleep: Callable[[float], None] = time.sleep,
    on_throttle: Callable[[], None] | None = None,
) -> Any:
    """Call `fn`; on throttling wait (exponential, full jitter, as AWS advises) and retry."""
    for attempt in range(attempts):
        try:
            return fn()
        except ClientError as exc:
            if error_code(exc) not in THROTTLING_CODES or attempt == attempts - 1:
                raise
            if on_throttle is not None:
                on_throttle()
            sleep(random.uniform(0, min(max_delay, base_delay * 2 ** attempt)))
    raise AssertionError("unreachable")
