import { metrics, secondsSince } from '@vmcp/telemetry';
import type { NextFunction, Request, Response } from 'express';

/**
 * Counts every HTTP request when its response is done, by the route's template
 * (`/api/v1/connections/:name`, never the path itself: paths hold ids and names).
 * Requests no route matched (404s, bodies refused before routing) count as "unmatched".
 */
export function httpMetrics(req: Request, res: Response, next: NextFunction): void {
  const started = performance.now();
  res.once('finish', () => {
    const route = (req.route as { path?: unknown } | undefined)?.path;
    metrics().http.request({
      method: req.method,
      route: typeof route === 'string' ? route : null,
      status: res.statusCode,
      durationSeconds: secondsSince(started),
    });
  });
  next();
}
