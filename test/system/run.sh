#!/usr/bin/env bash
# `npm run test:system`: builds the .debs (the current version and a rebuilt higher one for the
# upgrade check), boots a Debian 13 container with systemd as PID 1 and runs checks.sh inside.
# The container has a private network: nothing it does can clash with this host's ports.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
started=$(date +%s)
say() { echo "system: $* ($(($(date +%s) - started)) s)"; }

WORK=$(mktemp -d /var/tmp/tq-system-debs.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

bash scripts/build-debs.sh "$WORK/debs" >"$WORK/build.log" 2>&1 || {
  tail -40 "$WORK/build.log"
  exit 1
}
version=$(dpkg-parsechangelog -S Version)
say "built taskqueue $version"

# The same code under a higher version, to upgrade to: a copy of the tree with one more
# changelog entry (node_modules shared through a link, nothing of the checkout changes).
copy="$WORK/upgrade-src"
mkdir -p "$copy"
tar -C "$ROOT" --exclude=./node_modules --exclude=./debs --exclude=./.git --exclude=./debian/.stage \
  --exclude=./.tq-dev -cf - . | tar -C "$copy" -xf -
ln -s "$ROOT/node_modules" "$copy/node_modules"
next="${version}+systemtest1"
{
  echo "taskqueue ($next) unstable; urgency=medium"
  echo
  echo "  * Rebuilt by the system test to check upgrades."
  echo
  echo " -- taskqueue developers <taskqueue-devel@lists.example.org>  $(date -R)"
  echo
  cat "$ROOT/debian/changelog"
} >"$copy/debian/changelog.new"
mv "$copy/debian/changelog.new" "$copy/debian/changelog"
(cd "$copy" && bash scripts/build-debs.sh "$WORK/debs/upgrade") >"$WORK/build-upgrade.log" 2>&1 || {
  tail -40 "$WORK/build-upgrade.log"
  exit 1
}
say "built taskqueue $next for the upgrade check"

# A plugin's npm tarballs, for checks.sh to make .debs of with the installed taskqueue-plugin-deb
# (the container has no npm): the fixture at 1.0.0 and 1.0.1, and a package that is no plugin.
plugin="$WORK/debs/plugin"
mkdir -p "$plugin" "$WORK/stamp-next" "$WORK/not-a-plugin"
npm pack --silent --pack-destination "$plugin" ./test/fixtures/deb-plugin/taskqueue-plugin-stamp >/dev/null
cp -a test/fixtures/deb-plugin/taskqueue-plugin-stamp/. "$WORK/stamp-next/"
(cd "$WORK/stamp-next" && npm pkg set version=1.0.1 && npm pack --silent --pack-destination "$plugin") >/dev/null
echo '{"name": "left-pad", "version": "1.0.0", "main": "index.js"}' >"$WORK/not-a-plugin/package.json"
echo 'export default 1;' >"$WORK/not-a-plugin/index.js"
(cd "$WORK/not-a-plugin" && npm pack --silent --pack-destination "$plugin") >/dev/null
say "packed the plugin tarballs: $(cd "$plugin" && echo *.tgz)"

bash test/system/run-in-container.sh "$WORK/debs" test/system/checks.sh
say "passed"
