import type { HttpService, LocalServices } from '../services.ts';
import { createAuthorizer } from './authorization.ts';
import { Connection, type RealtimeContext } from './connection.ts';
import { deliverDatabaseBroadcasts } from './database-broadcasts.ts';
import { ChannelRegistry } from './registry.ts';
import { createBroadcastApi } from './rest.ts';

// The local stand-in for Supabase Realtime: the websocket protocol realtime-js speaks (broadcast
// both ways, presence, private channels authorized by RLS on realtime.messages, token refresh),
// fed from the database by realtime.send(), plus the broadcast REST API.

export interface RealtimeService extends HttpService {
  /** Takes over an upgraded WebSocket (standard WebSocket API) for /realtime/v1/websocket. */
  handleSocket(socket: WebSocket, url: URL): void;
  stop(): Promise<void>;
}

const GOING_AWAY = 1001;

export function createRealtime(services: LocalServices): RealtimeService {
  const registry = new ChannelRegistry();
  const context: RealtimeContext = {
    registry,
    authorizer: createAuthorizer(services),
    jwtSecret: services.keys.jwtSecret,
    log: services.log,
  };
  const api = createBroadcastApi(context);
  const connections = new Set<Connection>();
  let stopped = false;

  const stopListening = deliverDatabaseBroadcasts(services.pg, registry, services.log).catch(
    (error) => {
      services.log('realtime: cannot listen for database broadcasts', error);
      return async () => {};
    },
  );

  return {
    fetch: (request) => api.fetch(request),
    handleSocket(socket, url) {
      const connection = new Connection(socket, url, context, () => connections.delete(connection));
      if (stopped) return connection.close(GOING_AWAY, 'server is shutting down');
      connections.add(connection);
    },
    async stop() {
      stopped = true;
      for (const connection of connections) connection.close(GOING_AWAY, 'server is shutting down');
      connections.clear();
      await (await stopListening)();
    },
  };
}
