/** What the control file of a plugin's package says. */
export interface ControlFields {
  packageName: string;
  version: string;
  maintainer: string;
  /** taskqueue-common's lowest version whose plugin API fits the plugin's range. */
  hostVersion: string;
  nodeVersion: string;
  installedSizeKib: number;
  summary: string;
  npmName: string;
  npmVersion: string;
  type: string;
  homepage: string | undefined;
}

/** The DEBIAN/control file (deb-control(5)). */
export function controlFile(fields: ControlFields): string {
  const lines = [
    `Package: ${fields.packageName}`,
    `Version: ${fields.version}`,
    'Architecture: all',
    `Maintainer: ${fields.maintainer}`,
    `Installed-Size: ${fields.installedSizeKib}`,
    `Depends: taskqueue-common (>= ${fields.hostVersion}), nodejs (>= ${fields.nodeVersion})`,
    'Section: misc',
    'Priority: optional',
    ...(fields.homepage ? [`Homepage: ${fields.homepage}`] : []),
    `Description: ${fields.summary}`,
    ` taskqueue worker plugin for the type "${fields.type}": the npm package`,
    ` ${fields.npmName}@${fields.npmVersion}, installed where the worker pool finds it,`,
    ' with its runtime dependencies.',
  ];
  return `${lines.join('\n')}\n`;
}

/** One line of text for a control field: no newlines, no leading or trailing blanks. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * The maintainer from npm's `author` ("Name <mail>" or { name, email }) when it names an address;
 * undefined otherwise.
 */
export function maintainerFromAuthor(author: unknown): string | undefined {
  if (typeof author === 'string') {
    const match = /^([^<(]+?)\s*<([^>\s]+@[^>\s]+)>/.exec(author);
    return match ? `${oneLine(match[1]!)} <${match[2]}>` : undefined;
  }
  if (typeof author === 'object' && author !== null) {
    const { name, email } = author as { name?: unknown; email?: unknown };
    if (typeof name === 'string' && typeof email === 'string' && email.includes('@')) {
      return `${oneLine(name)} <${email}>`;
    }
  }
  return undefined;
}
