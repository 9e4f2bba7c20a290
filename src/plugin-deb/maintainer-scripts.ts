/**
 * The maintainer scripts of a plugin's package. The pool finds plugins when it starts or
 * reloads, so a running pool is told to look again after the package's files came or went: a
 * reload drains the children of a removed type, starts those of a new one and restarts those
 * whose plugin changed version; every other child keeps running. try-reload-or-restart does
 * nothing to a stopped pool (it finds the plugins at its next start), nor does anything run in
 * a chroot or an image build (no systemd running); deb-systemd-invoke honours policy-rc.d, as
 * debhelper's scripts do. A host without the workerpool unit answers "not found", which is no
 * failure of the package.
 */
const RELOAD_IF_RUNNING = `if [ -d /run/systemd/system ]; then
	deb-systemd-invoke try-reload-or-restart taskqueue-workerpool.service >/dev/null 2>&1 || true
fi`;

/** postinst: after the plugin's files are in place (install and upgrade). */
export function postinst(packageName: string): string {
  return `#!/bin/sh
# ${packageName}: written by taskqueue-plugin-deb.
set -e

if [ "$1" = configure ]; then
${indent(RELOAD_IF_RUNNING)}
fi

exit 0
`;
}

/** postrm: after the plugin's files are gone (remove; an upgrade's postinst reloads instead). */
export function postrm(packageName: string): string {
  return `#!/bin/sh
# ${packageName}: written by taskqueue-plugin-deb.
set -e

if [ "$1" = remove ]; then
${indent(RELOAD_IF_RUNNING)}
fi

exit 0
`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `\t${line}`)
    .join('\n');
}
