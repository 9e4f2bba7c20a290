import { apiVersion } from '@taskqueue/plugin-api';
import { describe, expect, it } from 'vitest';
import {
  API_RELEASES,
  debianPackageName,
  debianVersion,
  hostRequirement,
  nodeRequirement,
} from '../../../src/plugin-deb/debian-fields.js';

describe('Debian fields of a plugin package', () => {
  it('names the package after the npm package, a scope joined by a hyphen', () => {
    expect(debianPackageName('taskqueue-plugin-ocr')).toBe('taskqueue-plugin-ocr');
    expect(debianPackageName('@acme/taskqueue-plugin-pdf_split')).toBe(
      'acme-taskqueue-plugin-pdf-split',
    );
  });

  it('sorts a pre-release before its release, as semver does', () => {
    expect(debianVersion('1.2.0', '1')).toBe('1.2.0-1');
    expect(debianVersion('1.2.0-rc.1', '2')).toBe('1.2.0~rc.1-2');
    expect(debianVersion('1.2.0+build.7', '1')).toBe('1.2.0+build.7-1');
    expect(debianVersion('latest', '1')).toBeUndefined();
  });

  it('has a row for this host plugin API as its last', () => {
    expect(API_RELEASES.at(-1)?.api).toBe(apiVersion);
  });

  it('depends on the first taskqueue release whose plugin API fits the range', () => {
    const releases = [
      { api: '1.0.0', taskqueue: '0.1.0' },
      { api: '1.1.0', taskqueue: '0.2.0' },
      { api: apiVersion, taskqueue: '9.9.9' },
    ];
    expect(hostRequirement('^1.0.0', releases)).toBe('0.1.0');
    expect(hostRequirement('^1.1.0', releases)).toBe('0.2.0');
    expect(hostRequirement('^7.0.0', releases)).toBeUndefined();
    expect(hostRequirement('^1.0.0')).toBe('0.1.0');
  });

  it("asks for the host's nodejs, or the plugin's engines.node when that is higher", () => {
    expect(nodeRequirement(undefined)).toBe('20.19');
    expect(nodeRequirement({ node: '>=18' })).toBe('20.19');
    expect(nodeRequirement({ node: '>=22.3' })).toBe('22.3.0');
    expect(nodeRequirement({ node: 'whatever' })).toBe('20.19');
  });
});
