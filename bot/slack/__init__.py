"""The Slack adapter: translates Slack into core calls and core results into Slack messages."""
