"""The Microsoft Teams adapter, on Microsoft's Teams SDK for Python (microsoft-teams-apps)."""
