import {
  type BrokerVersion,
  describePlan,
  type PriorityPlan,
  planAdvice,
  priorityPlan,
} from '../../common/amqp/broker-features.js';
import type { GroupConfig, QueueType } from '../../common/config/types.js';
import type { Logger } from '../../common/logger.js';

/** The last plan logged by this child: said once, not again on each reconnect. */
let logged: string | undefined;

/**
 * The group's priority plan on the broker just reached; throws TQ_ERR_PRIORITY_UNSUPPORTED when
 * the broker cannot honour its `max_priority` (the child then fails its start like any config
 * refusal of the group: `fatal` to the pool, exit 3, the group's restart intensity and pause).
 * What applies is logged once per child, and again only if a reconnect reached another version.
 */
export function checkPriorities(
  group: GroupConfig,
  queueType: QueueType,
  version: BrokerVersion | undefined,
  log: Logger,
): PriorityPlan {
  const plan = priorityPlan(
    { type: group.type, queueType, maxPriority: group.maxPriority },
    version,
  );
  const line = describePlan(group.type, plan);
  if (line !== undefined && line !== logged) {
    logged = line;
    log.info({ priorities: plan.kind }, line);
    const advice = planAdvice(group.type, plan);
    if (advice) log.warn(advice);
  }
  return plan;
}
