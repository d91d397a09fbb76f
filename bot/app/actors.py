"""Who asks for something: a person on a platform, or the operator at the command line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    platform: str
    user_id: str

    @property
    def is_operator(self) -> bool:
        """The command line: whoever can run it runs the service, and may do everything."""
        return self.platform == OPERATOR.platform


OPERATOR = Actor("cli", "cli")
