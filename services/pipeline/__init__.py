"""The retrain pipeline (import → train → wait → update campaigns → wait → verify) and its stored runs."""

from services.pipeline.retrain import (
    STEPS,
    RetrainPipeline,
    RetrainRequest,
    StepFailed,
    import_from_saved_source,
    resolve,
)
from services.pipeline.runs import FAILED, INTERRUPTED, RUNNING, SUCCEEDED, Run, RunInProgress, RunStore

__all__ = [
    "FAILED", "INTERRUPTED", "RUNNING", "STEPS", "SUCCEEDED", "RetrainPipeline", "RetrainRequest", "Run",
    "RunInProgress", "RunStore", "StepFailed", "import_from_saved_source", "resolve",
]
