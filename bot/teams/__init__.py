"""The Microsoft Teams adapter, on Microsoft's Teams SDK for Python (microsoft-teams-apps)."""

from __future__ import annotations

import warnings

from microsoft_teams.common.experimental import ExperimentalWarning

# The SDK builds one of its own preview objects when imported (an HTML widget's default
# policy), which warns on stderr, outside the log's format, of an API Roundtable does not
# use. Only the SDK's own calls are silenced: a preview API called from here still warns.
warnings.filterwarnings("ignore", category=ExperimentalWarning, module=r"microsoft_teams\.")
