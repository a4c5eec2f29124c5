import { http, httpJson } from './util/http.ts';

export type ToxicType = 'latency' | 'bandwidth' | 'slow_close' | 'timeout' | 'reset_peer' | 'slicer' | 'limit_data';
export type Stream = 'upstream' | 'downstream';

export interface Toxic {
  name: string;
  type: ToxicType;
  stream: Stream;
  toxicity: number;
  attributes: Record<string, number>;
}

export interface Proxy {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: Toxic[];
}

/** A minimal client for Toxiproxy's HTTP API (v2.12). */
export class ToxiproxyClient {
  constructor(readonly apiUrl: string) {}

  async version(): Promise<string> {
    const res = await http(`${this.apiUrl}/version`);
    if (res.status !== 200) throw new Error(`toxiproxy /version → ${res.status}`);
    return res.body.trim();
  }

  async proxies(): Promise<Record<string, Proxy>> {
    return httpJson<Record<string, Proxy>>(`${this.apiUrl}/proxies`);
  }

  async createProxy(name: string, listen: string, upstream: string): Promise<Proxy> {
    return httpJson<Proxy>(`${this.apiUrl}/proxies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, listen, upstream, enabled: true }),
    });
  }

  async setEnabled(name: string, enabled: boolean): Promise<void> {
    await httpJson<Proxy>(`${this.apiUrl}/proxies/${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enabled }),
    });
  }

  /** Points a proxy at another upstream. Toxiproxy restarts the proxy's listener: open connections through it are closed. */
  async setUpstream(name: string, upstream: string): Promise<void> {
    await httpJson<Proxy>(`${this.apiUrl}/proxies/${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ upstream, enabled: true }),
    });
  }

  async addToxic(proxy: string, toxic: Toxic): Promise<void> {
    await httpJson<Toxic>(`${this.apiUrl}/proxies/${encodeURIComponent(proxy)}/toxics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(toxic),
    });
  }

  /** Idempotent: removing a toxic that is already gone is not an error. */
  async removeToxic(proxy: string, toxic: string): Promise<void> {
    const res = await http(`${this.apiUrl}/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxic)}`, { method: 'DELETE' });
    if (res.status !== 204 && res.status !== 200 && res.status !== 404) {
      throw new Error(`toxiproxy: removing toxic ${toxic} from ${proxy} → ${res.status}: ${res.body}`);
    }
  }

  /** Enables every proxy and removes every toxic. */
  async reset(): Promise<void> {
    const res = await http(`${this.apiUrl}/reset`, { method: 'POST' });
    if (res.status !== 204 && res.status !== 200) throw new Error(`toxiproxy /reset → ${res.status}: ${res.body}`);
  }
}
