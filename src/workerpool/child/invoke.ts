/**
 * The call of the plugin under its timeout lives in the API package's engine, shared with
 * `runTask` of `@taskqueue/plugin-api/testing`; this path stays for the programs that import it.
 */
export {
  type Invocation,
  type InvokeOptions,
  invokePlugin,
  LazyAbort,
} from '@taskqueue/plugin-api/engine';
