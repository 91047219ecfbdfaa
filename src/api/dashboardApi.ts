// The routes under /api/v1 the dashboard reads besides the plan routes: the live event stream and
// a plan's timeline.
import { routeFactory } from './routes';
import { streamOperation } from './stream';
import { timelineOperation } from './timeline';

export const DASHBOARD_OPERATIONS = [streamOperation, timelineOperation];

/** GET /stream, GET /namespaces/{ns}/plans/{name}/timeline. */
export const dashboardApiRoutes = routeFactory(DASHBOARD_OPERATIONS);
