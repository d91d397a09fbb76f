"""The application layer is tested as the Slack adapter drives it: the same running bot."""

from tests.slack.conftest import running, stub  # noqa: F401
