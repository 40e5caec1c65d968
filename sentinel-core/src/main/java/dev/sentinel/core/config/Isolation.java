package dev.sentinel.core.config;

/**
 * Who a backend connection serves, which decides where the server's own requests
 * ({@code sampling/createMessage}, {@code elicitation/create}, {@code roots/list}) and
 * notifications (logs, resource updates, list changes) may go. Nothing one principal causes may
 * reach another: a connection that serves several principals never relays them to a client.
 */
public enum Isolation {
  /**
   * One connection for every client. The server's requests are refused (the gateway cannot tell
   * whose call caused them), its log messages go to the gateway's log, resource updates go only
   * to sessions that subscribed and may still read the resource, and list changes only to
   * sessions that may use something of the backend.
   */
  SHARED,
  /**
   * One connection per principal, shared by that principal's sessions, closed after it has been
   * idle with none of them open. The server's requests go to the principal's one session with a
   * request in flight on the connection (refused when there are none, or several); its
   * notifications go to the principal's sessions.
   */
  PER_PRINCIPAL,
  /**
   * One connection per client session, closed when the session ends. The server's requests and
   * notifications go to that session only.
   */
  PER_SESSION
}
