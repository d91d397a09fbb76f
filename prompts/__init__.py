"""The prompt packs that come with Roundtable: the YAML files beside this module. A package (its
pack files are package data) so that an installed Roundtable has them as the source tree does."""

from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent
"""The shipped packs: prompts/ in the source tree or an editable install, the installed package
otherwise. Settings.packs_dir (ROUNDTABLE_PACKS_DIR) defaults to it."""
