// @ts-check
/**
 * taskqueue-plugin-echo: the worker type `echo` returns every workitem exactly as it came.
 *
 * It is the reference plugin (the smallest thing that satisfies the API) and the benchmark
 * plugin: keep handleTask free of work, logging and allocation so that a benchmark measures the
 * queue, not the plugin.
 */
import { BaseWorker } from '@taskqueue/plugin-api';

/** @typedef {import('@taskqueue/plugin-api').Workitem} Workitem */
/** @typedef {import('@taskqueue/plugin-api').TaskContext} TaskContext */

export default class EchoWorker extends BaseWorker {
  /**
   * Returns its input, unchanged.
   *
   * @param {Workitem} workitem
   * @param {TaskContext} [_ctx] unused
   * @returns {Promise<Workitem>}
   */
  async handleTask(workitem, _ctx) {
    return workitem;
  }
}
