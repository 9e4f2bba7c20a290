import type { ApiConfig } from '../../common/config/types.js';
import type { Logger } from '../../common/logger.js';
import { type ApiToken, readTokensFile } from './tokens.js';

/**
 * The tokens of `[api] tokens_file`. A missing file is allowed only when loopback needs no token
 * (a quick start on one host); then only loopback gets in.
 *
 * @throws TqError TQ_ERR_API_TOKENS_FILE
 */
export function loadApiTokens(api: ApiConfig, log: Logger): ApiToken[] {
  try {
    const tokens = readTokensFile(api.tokensFile);
    if (tokens.length === 0) log.warn({ file: api.tokensFile }, 'the API tokens file has no token');
    return tokens;
  } catch (err) {
    const missing = (err as { cause?: { code?: string } }).cause?.code === 'ENOENT';
    if (!missing || !api.loopbackWithoutToken) throw err;
    log.warn(
      { file: api.tokensFile },
      'no API tokens file: only loopback clients get in (loopback_without_token = yes)',
    );
    return [];
  }
}
