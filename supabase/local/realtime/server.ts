import type { HttpService, LocalServices } from '../services.ts';

export interface RealtimeService extends HttpService {
  /** Takes over an upgraded WebSocket (standard WebSocket API) for /realtime/v1/websocket. */
  handleSocket(socket: WebSocket, url: URL): void;
  stop(): Promise<void>;
}

export function createRealtime(_services: LocalServices): RealtimeService {
  return {
    fetch: async () => Response.json({ message: 'realtime is starting up' }, { status: 503 }),
    handleSocket: (socket) => socket.close(1011, 'realtime is starting up'),
    stop: async () => {},
  };
}
