/**
 * Tasks as a Ruote engine sends them: a workitem whose `fields.params.worker_type` names the
 * type, padded to the wanted size, numbered by `seq` and tagged with the run it belongs to.
 */
export const TYPE = 'echo';

export type TaskFactory = (seq: number) => Buffer;

/** A factory of tasks of about `bytes` bytes (exact for the widest `seq`, a few bytes less below). */
export function taskFactory(run: string, bytes: number, maxSeq: number): TaskFactory {
  const head = `{"fields":{"params":{"worker_type":"${TYPE}"},"run":${JSON.stringify(run)},"padding":"`;
  const middle = '","seq":';
  const tail = '}}';
  const fixed = head.length + middle.length + String(maxSeq).length + tail.length;
  const padding = 'x'.repeat(Math.max(0, bytes - fixed));
  const prefix = head + padding + middle;
  return (seq) => Buffer.from(prefix + seq + tail);
}

export interface ResultFields {
  run: unknown;
  seq: unknown;
}

/** The run and sequence number a result (the echoed workitem) carries. */
export function resultFields(body: Buffer): ResultFields {
  const workitem = JSON.parse(body.toString('utf8')) as { fields?: ResultFields };
  return { run: workitem.fields?.run, seq: workitem.fields?.seq };
}
