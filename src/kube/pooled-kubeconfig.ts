import { KubeConfig } from '@kubernetes/client-node';

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * A KubeConfig whose requests share one connection pool. @kubernetes/client-node 2.x builds a new
 * undici Agent in every applySecurityAuthentication, i.e. for every request: each API call opened
 * its own TCP and TLS connection (a new SecureContext parsing the CA and client key, a full
 * handshake on both ends), and each left its socket idle in an Agent nobody used again until
 * undici's keep-alive timeout closed it. A profile of the controller's start-up showed TLS set-up as
 * its largest item; during a storm the idle sockets and their TLS buffers piled up in RSS.
 *
 * The first dispatcher built for a cluster and user is kept and handed to every later request, as
 * client-node already does for its https.Agent (WebSocket) cache, keyed the same way. Headers
 * (bearer tokens, which rotate) are still set per request; TLS material (CA, client certificate) is
 * read when the pool is made, as client-go's transport cache does.
 */
export class PooledKubeConfig extends KubeConfig {
  private readonly dispatchers = new Map<string, Dispatcher>();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (!fresh) return; // plain http, or no TLS options: nothing to pool
    const key = JSON.stringify([this.getCurrentCluster()?.name ?? '', this.getCurrentUser()?.name ?? '']);
    const shared = this.dispatchers.get(key);
    if (shared) context.setDispatcher(shared);
    else this.dispatchers.set(key, fresh);
  }

  /** How many pools were made (one per cluster and user); for tests. */
  get poolCount(): number {
    return this.dispatchers.size;
  }
}
