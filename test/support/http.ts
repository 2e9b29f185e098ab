import http from 'node:http';

/** A tiny browser stand-in for tests: fetch with a cookie jar and no automatic redirects. */
export interface TestResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  json<T = unknown>(): T;
  readonly location: string | null;
  readonly setCookies: readonly string[];
}

export class Browser {
  readonly jar = new Map<string, string>();
  constructor(readonly base: string) {}

  async request(method: string, path: string, init: { form?: Record<string, string>; headers?: Record<string, string>; body?: string } = {}): Promise<TestResponse> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.jar.size > 0) headers['cookie'] = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined = init.body;
    if (init.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const url = path.startsWith('http') ? path : this.base + path;
    const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }), redirect: 'manual' });
    const setCookies = res.headers.getSetCookie();
    for (const c of setCookies) {
      const [pair = '', ...attrs] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text,
      json: <T>() => JSON.parse(text) as T,
      location: res.headers.get('location'),
      setCookies,
    };
  }

  get(path: string, headers: Record<string, string> = {}): Promise<TestResponse> {
    return this.request('GET', path, { headers });
  }

  post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<TestResponse> {
    return this.request('POST', path, { form, headers });
  }

  /** GET whoami as JSON. */
  whoami(): Promise<TestResponse> {
    return this.get('/api/current-user/whoami', { accept: 'application/json' });
  }
}

/** The value of a hidden input in an HTML page (tests read the dev IdP's auto-post form). */
export function hiddenInput(html: string, name: string): string | undefined {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (m?.[1] === undefined) return undefined;
  return m[1].replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * GET on 127.0.0.1:`port` with the given Host header: fetch cannot set Host, and `localhost` may resolve to
 * ::1 where the server does not listen.
 */
export function getWithHost(port: number, urlPath: string, host: string): Promise<{ status: number; location: string | undefined; cookies: string[] }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method: 'GET', headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, cookies: res.headers['set-cookie'] ?? [] }));
    });
    req.on('error', reject);
    req.end();
  });
}
