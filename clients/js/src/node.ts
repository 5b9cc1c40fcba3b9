// Node (20+): the `ws` package, authenticated by the Authorization header.
import WebSocket from "ws";
import type { Connector, WebSocketLike } from "./realtime.js";

export const nodeConnector: Connector = (url, token) => ({
  socket: new WebSocket(url, { headers: { Authorization: `Bearer ${token}` } }) as unknown as WebSocketLike,
  authByFrame: false,
});
