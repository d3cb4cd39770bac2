"""The de-identification actions a policy can name: mask, tokenize, generalize, redact, fake, keep.

Importing this package registers every action in `ACTIONS`; `build_action` validates a policy's
parameters and builds one.
"""

from pipeline.actions import fake, generalize, keep, mask, redact, tokenize  # noqa: F401 - registers them
from pipeline.actions.base import (
    ACTIONS,
    Action,
    ActionConfigError,
    Params,
    Target,
    action_params,
    build_action,
    register,
)

__all__ = ["ACTIONS", "Action", "ActionConfigError", "Params", "Target", "action_params", "build_action",
           "register"]
