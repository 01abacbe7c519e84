/** A token cache for one Lark SDK `Client` (never the SDK's process-wide default). Implements the SDK's
 * `Cache` interface: `expire` is an absolute time in ms. */
export class TokenCache {
  private entries = new Map<string, { value: unknown; expire?: number }>();

  private key(key: any, namespace?: string) {
    return `${namespace ?? ''}|${String(key)}`;
  }

  set = async (key: any, value: unknown, expire?: number, options?: { namespace?: string }) => {
    this.entries.set(this.key(key, options?.namespace), { value, expire });
    return true;
  };

  get = async (key: any, options?: { namespace?: string }) => {
    const k = this.key(key, options?.namespace);
    const e = this.entries.get(k);
    if (!e) return undefined;
    if (e.expire !== undefined && e.expire <= Date.now()) {
      this.entries.delete(k);
      return undefined;
    }
    return e.value;
  };

  clear() {
    this.entries.clear();
  }
}
