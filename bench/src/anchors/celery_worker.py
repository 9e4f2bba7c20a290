"""The Celery anchor's worker (bench/README.md, Anchors): one task that returns its workitem.

Run by the bench as
  /usr/bin/python3 -m celery -A celery_worker worker --pool=prefork --concurrency=K ...
with BENCH_CELERY_BROKER (the run's AMQP URL) and BENCH_CELERY_PREFETCH (W) in the environment.
Every setting below that bears on the comparison is in the README: acks late (the task is acked
after its result was published), publisher confirms on every publish (the results too), results
persistent, no events or remote control (taskqueue's echo runs have none either).
"""

import os

from celery import Celery

app = Celery("bench", broker=os.environ["BENCH_CELERY_BROKER"], backend="rpc://")
app.conf.update(
    task_acks_late=True,
    # A pool process that dies with a task in hand: requeued, not acked (taskqueue redelivers).
    task_reject_on_worker_lost=True,
    # The channel's prefetch is concurrency x this: K x W, as taskqueue's K children x W.
    worker_prefetch_multiplier=int(os.environ["BENCH_CELERY_PREFETCH"]),
    broker_transport_options={"confirm_publish": True},
    result_persistent=True,
    task_default_queue="worker_echo",
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    worker_enable_remote_control=False,
    worker_send_task_events=False,
    task_send_sent_event=False,
    worker_hijack_root_logger=False,
)


@app.task(name="bench.echo")
def echo(workitem):
    return workitem
