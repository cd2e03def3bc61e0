package io.surplus.market.stream;

import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.impl.engine.ws.FrameEvent;
import org.apache.pekko.http.impl.engine.ws.FrameEvent$;
import org.apache.pekko.http.impl.engine.ws.FrameStart;
import org.apache.pekko.http.impl.engine.ws.UpgradeToWebSocketLowLevel;
import org.apache.pekko.http.impl.engine.ws.WebSocket$;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgrade;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;
import org.apache.pekko.http.scaladsl.settings.WebSocketSettings;
import org.apache.pekko.stream.javadsl.Flow;
import scala.Option;

/**
 * A server WebSocket that can say why it closes. Pekko HTTP's message API closes with {@code 1000}
 * and no reason when the server's side completes, and has no way to give another code; the stream
 * must tell a client it cut off why ({@code 1008} and {@code "client too slow: N messages behind"},
 * or {@code 1001} when the node shuts down). So this runs the same protocol stack Pekko HTTP builds
 * for {@code handleMessages} ({@code WebSocket.stack}, its internal API, 1.3.0) under the
 * frame-level handler, and on the way out replaces the server's own close frame with one that
 * carries the code and reason, when one is set. Everything else (pings, the close handshake and its
 * timeout) stays Pekko's. A Pekko HTTP upgrade that changes these internals breaks the compile or
 * {@code StreamTest}'s slow client, not the service silently.
 */
final class ClosingWebSocket {

  /** A close frame's status code (RFC 6455, 7.4.1) and reason. */
  record Close(int code, String reason) {}

  /** Policy violation: the client did not keep up with the stream. */
  static final int TOO_SLOW = 1008;

  /** The server is going away (shutting down). */
  static final int GOING_AWAY = 1001;

  /** The server met a condition it did not expect. */
  static final int UNEXPECTED = 1011;

  private static final byte CLOSE_OPCODE = 0x8;

  private final WebSocketSettings settings;
  private final LoggingAdapter log;

  ClosingWebSocket(ActorSystem<?> system) {
    this.settings =
        ((ServerSettings) ServerSettings.apply(system.classicSystem())).websocketSettings();
    this.log = system.classicSystem().log();
  }

  /**
   * Answers {@code upgrade} with {@code messages}; once {@code close} is set, the server's close
   * frame carries its code and reason.
   */
  HttpResponse handle(
      WebSocketUpgrade upgrade,
      Flow<Message, Message, NotUsed> messages,
      AtomicReference<Close> close) {
    Flow<
            org.apache.pekko.http.scaladsl.model.ws.Message,
            org.apache.pekko.http.scaladsl.model.ws.Message,
            NotUsed>
        user =
            Flow.<org.apache.pekko.http.scaladsl.model.ws.Message>create()
                .map(Message::adapt)
                .via(messages)
                .map(Message::asScala);
    Flow<FrameEvent, FrameEvent, Object> frames =
        WebSocket$.MODULE$
            .stack(true, settings, WebSocket$.MODULE$.stack$default$3(), log)
            .join(user)
            .asJava()
            .map(f -> withReason(f, close.get()))
            .mapMaterializedValue(m -> (Object) m); // Pekko's Scala side takes Graph[_, Any]
    return ((UpgradeToWebSocketLowLevel) upgrade).handleFrames(frames, Option.empty());
  }

  private static FrameEvent withReason(FrameEvent f, Close close) {
    if (close != null && f instanceof FrameStart s && s.header().opcode().code() == CLOSE_OPCODE) {
      return FrameEvent$.MODULE$.closeFrame(close.code(), close.reason(), Option.empty());
    }
    return f;
  }
}
