import { cors } from 'hono/cors';

// Browsers call Parley's public functions from tenants' own sites. Which origins may actually use
// a tenant's widget is decided per tenant (allowed_origins), after CORS.
export const publicCors = () =>
  cors({
    origin: (origin) => origin || '*',
    allowHeaders: ['authorization', 'x-client-info', 'apikey', 'content-type'],
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    maxAge: 86400,
  });
