// The one Prometheus registry every part of the server registers its metrics in (served on /metrics). Default
// process metrics (CPU, memory, event-loop lag, handles) come with it.
import { collectDefaultMetrics, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'splatcast_' });
