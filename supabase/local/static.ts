import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { HttpService, LocalServices } from './services.ts';

// Static files of the local stack: the widget build (/widget/), the admin SPA build (/admin/) and
// the demo shop page (/), which embeds the widget for the demo tenant.

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

async function serveFile(root: string, relative: string): Promise<Response | null> {
  const path = normalize(join(root, relative));
  // Never outside the folder, whatever the URL says.
  if (path !== root && !path.startsWith(root + sep)) return null;
  try {
    const body = await readFile(path);
    return new Response(body, {
      headers: {
        'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
        'cache-control': 'no-cache',
        'access-control-allow-origin': '*',
      },
    });
  } catch {
    return null;
  }
}

export function createStaticFiles(
  services: LocalServices,
  widgetKey = 'pk_demo_trailhead',
): HttpService {
  const widgetDir = join(services.projectDir, 'widget', 'dist');
  const adminDir = join(services.projectDir, 'admin', 'dist');
  const demoPage = join(services.projectDir, 'supabase', 'local', 'demo', 'shop.html');

  return {
    async fetch(request) {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return new Response('Method not allowed', { status: 405 });
      }
      const { pathname } = new URL(request.url);
      if (pathname === '/' || pathname === '/demo' || pathname === '/demo/') {
        const html = (await readFile(demoPage, 'utf8'))
          .replaceAll('{{SUPABASE_URL}}', services.publicUrl)
          .replaceAll('{{PUBLISHABLE_KEY}}', services.keys.anonKey)
          .replaceAll('{{WIDGET_KEY}}', widgetKey);
        return new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8' } });
      }
      if (pathname.startsWith('/widget/')) {
        const file = await serveFile(
          widgetDir,
          decodeURIComponent(pathname.slice('/widget/'.length)),
        );
        if (file) return file;
      }
      // The SPA's files are relative to its folder: /admin must become /admin/ to find them.
      if (pathname === '/admin') {
        return new Response(null, { status: 308, headers: { location: '/admin/' } });
      }
      if (pathname.startsWith('/admin/')) {
        const relative = decodeURIComponent(pathname.slice('/admin/'.length));
        // A single-page app: unknown paths are client-side routes.
        const file =
          (relative && (await serveFile(adminDir, relative))) ||
          (await serveFile(adminDir, 'index.html'));
        if (file) return file;
      }
      return new Response('Not found', { status: 404 });
    },
  };
}
