#!/usr/bin/env bash
# `npm run deb`: builds the Debian packages with dpkg-buildpackage and collects them, with
# lintian's verdict, in debs/ (dpkg-buildpackage writes them next to the repository).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${1:-debs}

missing=()
for tool in dpkg-buildpackage dh; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dpkg-dev debhelper lintian
  else
    echo "build-debs: missing ${missing[*]}: apt-get install dpkg-dev debhelper lintian" >&2
    exit 1
  fi
fi

version=$(dpkg-parsechangelog -S Version)
dpkg-buildpackage -us -uc -b
mkdir -p "$OUT"
rm -f "$OUT"/taskqueue-*.deb
for pkg in common dispatcher workerpool api extra; do
  # taskqueue-api is Architecture: any (better-sqlite3's native binding), the others all.
  mv "../taskqueue-${pkg}_${version}_"*.deb "$OUT/"
done
rm -f "../taskqueue_${version}_"*.buildinfo "../taskqueue_${version}_"*.changes "../taskqueue-api-dbgsym_${version}_"*
if command -v lintian >/dev/null; then
  # Errors fail the build; warnings are either fixed or overridden with a reason in debian/.
  lintian --fail-on error "$OUT"/taskqueue-*_"${version}"_*.deb
fi
ls -l "$OUT"
