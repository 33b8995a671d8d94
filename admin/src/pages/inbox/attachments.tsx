import { useEffect, useState } from 'preact/hooks';
import { supabase } from '../../data/client.ts';

// The files a visitor sent with a message. The bucket is private: each file is fetched through a
// short-lived signed URL, which Storage grants only to the tenant's members (and the visitor).
// A name is shown as text, whatever characters it holds.

interface File {
  path: string;
  name: string;
  type: string;
  size: number;
}

const asFiles = (value: unknown[]): File[] =>
  value.filter(
    (f): f is File =>
      !!f &&
      typeof f === 'object' &&
      typeof (f as File).path === 'string' &&
      typeof (f as File).name === 'string' &&
      typeof (f as File).type === 'string',
  );

const size = (bytes: number) =>
  bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;

export function Attachments({ files }: { files: unknown[] }) {
  const list = asFiles(files);
  const [urls, setUrls] = useState<Record<string, string>>({});
  const key = list.map((f) => f.path).join('\n');
  useEffect(() => {
    let live = true;
    void (async () => {
      const client = supabase();
      const headers = {
        apikey: client.key,
        Authorization: `Bearer ${await client.accessToken()}`,
        'content-type': 'application/json',
      };
      const found: Record<string, string> = {};
      for (const f of list) {
        const response = await fetch(`${client.url}/storage/v1/object/sign/attachments/${f.path}`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ expiresIn: 600 }),
        }).catch(() => null);
        const signed = response?.ok ? (await response.json())?.signedURL : null;
        if (typeof signed === 'string' && signed.startsWith('/'))
          found[f.path] = `${client.url}/storage/v1${signed}`;
      }
      if (live) setUrls(found);
    })();
    return () => {
      live = false;
    };
  }, [key]);
  return (
    <ul class="attachments" data-admin="attachments">
      {list.map((f) => {
        const url = urls[f.path];
        return (
          <li key={f.path} data-admin="attachment">
            {url ? (
              <a href={url} target="_blank" rel="noopener noreferrer">
                {f.type.startsWith('image/') && <img src={url} alt="" />}
                <span>{f.name}</span>
              </a>
            ) : (
              <span>{f.name}</span>
            )}{' '}
            <small>
              {f.type}, {size(f.size)}
            </small>
          </li>
        );
      })}
    </ul>
  );
}
