"""Known-vulnerability audit of requirements.lock, run by `make audit` (and so by CI).

With a vulnerability service reachable (OSV, or PyPI's per-release JSON), this is pip-audit over
the lock with --strict: any known vulnerability not in .ci/audit-ignore.txt fails, and so does a
package it could not audit. Where neither answers (a network that reaches only the package
index), pip-audit would skip every package and pass; instead the partial check below runs, and
says so: for each locked package, PyPI's project page lists the advisories against its latest
release and whether our release was yanked. Set PDM_AUDIT_REQUIRE_FULL=1 to fail in that case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
IGNORE = ROOT / ".ci" / "audit-ignore.txt"
PROBES = {  # pip-audit's services, each with a request it answers when reachable
    "osv": ("https://api.osv.dev/v1/query",
            b'{"package": {"name": "pip", "ecosystem": "PyPI"}, "version": "24.0"}'),
    "pypi": ("https://pypi.org/pypi/pip/24.0/json", None),
}


def ignored() -> dict[str, str]:
    """Vulnerability id → why it is accepted; an entry without a reason is refused."""
    entries = {}
    for number, raw in enumerate(IGNORE.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        vuln_id, _, reason = line.partition(" ")
        if not reason.strip():
            sys.exit(f"{IGNORE.name}:{number}: {vuln_id} has no reason; write `ID  why it does not apply`")
        entries[vuln_id] = reason.strip()
    return entries


def locked() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.strip()] = version.strip()
    return pins


def reachable(url: str, body: bytes | None) -> bool:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def pip_audit(service: str, accepted: dict[str, str]) -> int:
    command = [sys.executable, "-m", "pip_audit", "--requirement", str(LOCK), "--no-deps", "--disable-pip",
               "--strict", "--progress-spinner", "off", "--vulnerability-service", service,
               *(arg for vuln_id in accepted for arg in ("--ignore-vuln", vuln_id))]
    print(f"audit: pip-audit over {LOCK.name} with the {service} service", flush=True)
    return subprocess.run(command, check=False).returncode


def project_findings(name: str, version: str, accepted: dict[str, str]) -> list[str]:
    """Advisories against the latest release that the lock's release shares, and a yanked pin."""
    for attempt in range(3):  # one slow answer must not fail the build; three in a row do
        try:
            with urllib.request.urlopen(f"https://pypi.org/pypi/{name}/json", timeout=30) as response:
                project = json.load(response)
            break
        except (urllib.error.URLError, OSError, ValueError) as exc:
            if attempt == 2:
                return [f"{name}=={version}: PyPI did not answer ({exc})"]
            time.sleep(2 * (attempt + 1))
    findings = []
    latest = project["info"]["version"]
    for vuln in project.get("vulnerabilities") or []:
        ids = {vuln["id"], *(vuln.get("aliases") or [])}
        if vuln.get("withdrawn") or ids & accepted.keys():
            continue
        # An advisory still open on the latest release is open on ours unless ours predates it.
        findings.append(f"{name}=={version}: {vuln['id']} (affects the latest release {latest}; "
                        f"fixed in {', '.join(vuln.get('fixed_in') or []) or 'no release yet'}): "
                        f"{vuln.get('summary') or vuln.get('details', '')[:120]}")
    files = project.get("releases", {}).get(version, [])
    if files and all(f.get("yanked") for f in files):
        findings.append(f"{name}=={version}: yanked ({files[0].get('yanked_reason') or 'no reason given'})")
    return findings


def partial_audit(accepted: dict[str, str]) -> int:
    pins = locked()
    print(f"audit: no vulnerability service reachable ({', '.join(u for u, _ in PROBES.values())}); "
          f"PARTIAL check of {len(pins)} locked packages against PyPI's project pages: advisories "
          "open on each package's latest release, and yanked pins. Advisories fixed in a release "
          "newer than a pin are NOT seen in this mode.", flush=True)
    with ThreadPoolExecutor(8) as pool:
        found = pool.map(lambda pin: project_findings(*pin, accepted), pins.items())
        findings = [finding for each in found for finding in each]
    for finding in findings:
        print(f"  {finding}")
    if findings:
        print(f"audit: {len(findings)} finding(s); upgrade, or accept each in {IGNORE.name} with a reason")
        return 1
    print(f"audit: partial check clean ({len(pins)} packages)")
    return 2 if os.environ.get("PDM_AUDIT_REQUIRE_FULL") == "1" else 0


def main() -> int:
    accepted = ignored()
    for service, (url, body) in PROBES.items():
        if reachable(url, body):
            return pip_audit(service, accepted)
    return partial_audit(accepted)


if __name__ == "__main__":
    sys.exit(main())
