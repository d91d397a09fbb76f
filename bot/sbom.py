"""A software bill of materials of this installation, in CycloneDX 1.5 JSON.

It lists Roundtable and every Python distribution installed in the same environment (what
`pip install` brought), each with its version, its package URL (`pkg:pypi/name@version`) and
its licence as the package declares it, and the dependencies each declares on the others. It
is made from the environment itself (importlib.metadata), so it says what is installed, not
what the lock file asks for; `pip-audit` reads the same environment for known
vulnerabilities.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

SPEC = "1.5"
SCHEMA = "http://cyclonedx.org/schema/bom-1.5.schema.json"
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalised(name: str) -> str:
    """PEP 503's form of a distribution name (as package URLs use it)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def purl(name: str, version: str) -> str:
    return f"pkg:pypi/{normalised(name)}@{version}"


def _field(dist: metadata.Distribution, name: str) -> str | None:
    values = dist.metadata.get_all(name) or []
    return str(values[0]) if values else None


def _licence(dist: metadata.Distribution) -> list[dict[str, Any]]:
    meta = dist.metadata
    expression = _field(dist, "License-Expression")
    if expression:
        return [{"expression": expression}]
    classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or []
                   if c.startswith("License :: ")]
    text = (_field(dist, "License") or "").strip()
    names = classifiers or ([text.splitlines()[0][:200]] if text else [])
    return [{"license": {"name": n}} for n in names]


def _component(dist: metadata.Distribution, kind: str = "library") -> dict[str, Any]:
    name, version = dist.metadata["Name"], dist.version
    component: dict[str, Any] = {
        "type": kind, "bom-ref": purl(name, version), "name": name, "version": version,
        "purl": purl(name, version),
    }
    if licences := _licence(dist):
        component["licenses"] = licences
    if summary := _field(dist, "Summary"):
        component["description"] = summary[:500]
    return component


def bill_of_materials(root: str = "roundtable") -> dict[str, Any]:
    """The BOM of the environment Roundtable runs in, `root` as its subject."""
    dists: dict[str, metadata.Distribution] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and normalised(name) not in dists:
            dists[normalised(name)] = dist
    subject = dists.get(normalised(root))
    components = [_component(d) for key, d in sorted(dists.items()) if key != normalised(root)]
    refs = {normalised(d.metadata["Name"]): purl(d.metadata["Name"], d.version)
            for d in dists.values()}
    dependencies = []
    for key, dist in sorted(dists.items()):
        needs = sorted({refs[normalised(m.group(1))] for requirement in dist.requires or []
                        if "extra ==" not in requirement
                        and (m := _NAME.match(requirement)) and normalised(m.group(1)) in refs})
        dependencies.append({"ref": refs[key], "dependsOn": needs})
    bom: dict[str, Any] = {
        "$schema": SCHEMA,
        "bomFormat": "CycloneDX",
        "specVersion": SPEC,
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "tools": {"components": [{"type": "application", "name": "roundtable sbom"}]},
        },
        "components": components,
        "dependencies": dependencies,
    }
    if subject is not None:
        bom["metadata"]["component"] = _component(subject, "application")
    return bom
