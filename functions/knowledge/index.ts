import { productionContext } from '../_shared/platform/production.ts';
import { createApp } from './app.ts';

Deno.serve(createApp(productionContext(Deno.env.toObject())).fetch);
