import type { IniDocument } from './parse.js';
import type { ProblemList } from './problems.js';
import { checkKnownKeys, tableReader } from './read.js';
import { API_KEYS } from './schema.js';
import type { ApiConfig } from './types.js';
import { SectionView } from './view.js';

/** [api] alone (not [DEFAULT], as the other fixed sections). */
export function resolveApi(doc: IniDocument, problems: ProblemList): ApiConfig {
  const view = new SectionView(doc, [doc.sections.get('api')], 'references-only');
  checkKnownKeys(view, 'api', API_KEYS, problems);
  const read = tableReader(view, API_KEYS, problems);
  return {
    listen: read('listen'),
    tokensFile: read('tokens_file'),
    store: read('store'),
    loopbackWithoutToken: read('loopback_without_token'),
    dashboard: read('dashboard'),
    maxBodySize: read('max_body_size'),
    maxReplyWait: read('max_reply_wait'),
    keepSucceeded: read('keep_succeeded'),
    keepFailed: read('keep_failed'),
    sweepInterval: read('sweep_interval'),
    resultCap: read('result_cap'),
    workitemCap: read('workitem_cap'),
    url: read('url'),
    written: doc.sections.has('api'),
  };
}
