/** The BullMQ anchors' sandboxed processor: returns the workitem, as the echo plugin does. */
export default async function echo(job: { data: unknown }): Promise<unknown> {
  return job.data;
}
