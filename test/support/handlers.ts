import { adminFunctions } from "../../functions/admin/functions.js";
import { eventRules } from "../../functions/events/rules.js";
import { fallbackHandler, routeGroups } from "../../functions/routes.js";
import { scheduledJobs } from "../../functions/scheduled/jobs.js";
import { streamPublisher } from "../../functions/stream/publisher-source.js";

/**
 * Every handler the stacks deploy (SST notation), from each list's source of truth: route groups, the fallback
 * route, event rules, the stream publisher, scheduled jobs and admin functions.
 */
export function deployedHandlers(): string[] {
  return [
    ...Object.values(routeGroups).map((g) => g.handler),
    fallbackHandler,
    ...eventRules.map((r) => r.handler),
    streamPublisher.handler,
    ...scheduledJobs.map((j) => j.handler),
    ...adminFunctions.map((a) => a.handler),
  ];
}
