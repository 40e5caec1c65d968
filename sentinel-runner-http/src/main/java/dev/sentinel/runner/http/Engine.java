package dev.sentinel.runner.http;

import dev.sentinel.api.Credentials;
import dev.sentinel.api.Transport;
import dev.sentinel.core.gateway.GatewayRuntime;
import dev.sentinel.core.mcp.BackendStatus;
import dev.sentinel.core.mcp.ClientSession;
import dev.sentinel.core.mcp.McpGateway;
import dev.sentinel.core.transport.FrameLimits;
import java.util.Map;

/**
 * What the HTTP gateway needs of the MCP engine: serving a session, the backends' states and the
 * message limits. A {@link GatewayRuntime} in production; tests may assemble an
 * {@link McpGateway} themselves.
 */
interface Engine {

  /** Serves one client session over the transport with the credentials it presented. */
  ClientSession serve(Transport transport, Credentials credentials, String clientLabel);

  /** The backends' states, for readiness. */
  Map<String, BackendStatus> backends();

  /** The message limits. */
  FrameLimits frameLimits();

  /** The engine of a gateway runtime. */
  static Engine of(GatewayRuntime runtime) {
    return new Engine() {
      @Override
      public ClientSession serve(Transport transport, Credentials credentials, String clientLabel) {
        return runtime.serve(transport, credentials, clientLabel);
      }

      @Override
      public Map<String, BackendStatus> backends() {
        return runtime.backends();
      }

      @Override
      public FrameLimits frameLimits() {
        return runtime.frameLimits();
      }
    };
  }

  /** An engine from a bare MCP gateway and limits. */
  static Engine of(McpGateway gateway, FrameLimits limits) {
    return new Engine() {
      @Override
      public ClientSession serve(Transport transport, Credentials credentials, String clientLabel) {
        return gateway.serve(transport, credentials, clientLabel);
      }

      @Override
      public Map<String, BackendStatus> backends() {
        return gateway.backends();
      }

      @Override
      public FrameLimits frameLimits() {
        return limits;
      }
    };
  }
}
