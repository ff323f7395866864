"""Re-fetch GraphiQL's browser assets from the npm registry: `make ide-assets`.

A maintainer's tool, never run by `make run` or at serve time (those need only python3).
Each package is pinned to a version and to the sha512 integrity the registry published
for its tarball; `npm pack` fetches it (through your npm configuration), the tarball is
checked against the pin, the listed files and the package's LICENSE are copied into
`static/<package>-<version>/`, and `static/manifest.json` records every file with its
package, version, tarball URL and sha384 SRI hash. The same pins give the same bytes.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
MANIFEST = STATIC / "manifest.json"
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    #: The registry's `dist.integrity` of the tarball: a re-fetch must match it.
    tarball_integrity: str
    #: Paths inside the tarball (under `package/`) to ship, kept under their own names.
    files: tuple[str, ...]
    #: The tarball's own LICENSE, or where the license text comes from when it has none.
    license_from: tuple[str, str] | None = None

    @property
    def directory(self) -> str:
        return f"{self.name.removeprefix('@').replace('/', '-')}-{self.version}"

    @property
    def tarball_url(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


PACKAGES: tuple[Package, ...] = (
    Package(
        "react",
        "18.2.0",
        "sha512-/3IjMdb2L9QbBdWiW5e3P2/npwMBaU9mHCSCUzNln0ZCYbcfTsGbTJrU/kGemdH2IWmB2ioZ+zkxtmq6g09fGQ==",
        ("umd/react.production.min.js",),
    ),
    Package(
        "react-dom",
        "18.2.0",
        "sha512-6IMTriUmvsjHUjNtEDudZfuDQUoWXVxKHhlEGSk81n4YFS+r/Kl99wXiwlVXtPBtJenozv2P+hxDsw9eA7Xo6g==",
        ("umd/react-dom.production.min.js",),
    ),
    Package(
        "graphiql",
        "3.8.3",
        "sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw==",
        ("graphiql.min.js", "graphiql.min.css"),
    ),
    Package(
        "@graphiql/plugin-explorer",
        "1.0.2",
        "sha512-9j+kg2UjtLZD5EBmGjeWHkoVVxtbShYg2DzbUVebibnZYZM/iMBEF4vaccXJIAm5KaomIPLx0aoNs4LbODyc3Q==",
        ("dist/index.umd.js", "dist/style.css"),
        # Its tarball ships no LICENSE; package.json says MIT, and it lives in the same
        # repository (graphql/graphiql) as graphiql, whose LICENSE is that repository's.
        license_from=("graphiql", "LICENSE"),
    ),
)


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def _tarball_integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def _npm_pack(package: Package, into: Path) -> bytes:
    result = subprocess.run(
        ["npm", "pack", package.spec, "--json", "--pack-destination", str(into)],
        check=True,
        capture_output=True,
        text=True,
    )
    (packed,) = json.loads(result.stdout)
    filename: str = packed["filename"]
    data = (into / filename).read_bytes()
    got = _tarball_integrity(data)
    if got != package.tarball_integrity:
        raise SystemExit(f"{package.spec}: tarball is {got}, pinned {package.tarball_integrity}")
    return data


def _member(archive: tarfile.TarFile, path: str) -> bytes:
    member = archive.getmember(f"package/{path}")
    if not member.isfile():
        raise SystemExit(f"package/{path} is not a regular file")
    handle = archive.extractfile(member)
    assert handle is not None
    return handle.read()


def fetch(static: Path = STATIC) -> list[dict[str, str]]:
    """Fetch every pinned package and rewrite `static/` and its manifest."""
    entries: list[dict[str, str]] = []
    licenses: dict[str, bytes] = {}
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tally-ide-")))
        unpacked: dict[str, tarfile.TarFile] = {}
        for package in PACKAGES:
            path = tmp / f"{package.directory}.tgz"
            path.write_bytes(_npm_pack(package, tmp))
            unpacked[package.name] = stack.enter_context(tarfile.open(path, "r:gz"))
        for package in PACKAGES:
            archive = unpacked[package.name]
            with_license = [(f, _member(archive, f)) for f in package.files]
            source_name, source_path = package.license_from or (package.name, "LICENSE")
            license_text = licenses.setdefault(
                source_name, _member(unpacked[source_name], source_path)
            )
            with_license.append(("LICENSE", license_text))
            target = static / package.directory
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            for inner, data in with_license:
                name = Path(inner).name
                (target / name).write_bytes(data)
                from_tarball = (
                    f"{package.license_from[0]} tarball: package/{package.license_from[1]}"
                    if name == "LICENSE" and package.license_from
                    else f"package/{inner}"
                )
                entries.append(
                    {
                        "path": f"{package.directory}/{name}",
                        "package": package.name,
                        "version": package.version,
                        "source": package.tarball_url,
                        "tarball_integrity": package.tarball_integrity,
                        "from": from_tarball,
                        "integrity": sri(data),
                    }
                )
    manifest = {
        "about": "Vendored by app/graphql/ide/vendor.py (make ide-assets); do not edit by hand.",
        "files": entries,
    }
    (static / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return entries


def check(static: Path = STATIC) -> list[str]:
    """Offline: every file of the manifest is present and has its recorded hash."""
    manifest = json.loads((static / "manifest.json").read_text(encoding="utf-8"))
    problems = []
    for entry in manifest["files"]:
        path = static / entry["path"]
        if not path.is_file():
            problems.append(f"{entry['path']}: missing")
        elif sri(path.read_bytes()) != entry["integrity"]:
            problems.append(f"{entry['path']}: does not match its manifest hash")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the files, offline")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        print("\n".join(problems) or "ok: every vendored file matches manifest.json")
        return 1 if problems else 0
    for entry in fetch():
        print(f"{entry['integrity']}  {entry['path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
