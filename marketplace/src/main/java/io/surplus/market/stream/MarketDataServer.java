package io.surplus.market.stream;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.surplus.market.http.Json;
import io.surplus.market.http.Problem;
import io.surplus.market.http.PublicGets;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The market-data port: {@code /v1/stream} served on a port and a thread of its own, as exchanges
 * serve their market-data feeds apart from order entry. The same stream as the API port's (the same
 * request, the same node-wide {@link StreamFanOut}, the same messages, buffer and close reasons),
 * written by one Netty event loop: a message to a stream is one write of a frame over the event's
 * shared bytes, where the API port's Pekko stream takes a stream interpreter's turn, a TCP actor's
 * and an ack's on the dispatcher that answers the requests. A thousand subscribers' epochs then
 * cost the requests a share of the cores, not a place in their queue (docs/PERFORMANCE.md, "Market
 * data on a port of its own").
 *
 * <p>It serves the public reads of market data too ({@link PublicGets}: the markets, books,
 * windows, trades, candles and epochs, and the health checks), by the API's own handlers from the
 * same views, so a read answers the same bytes, status and {@code ETag} here as on the API port;
 * keep-alive, answered in order on each connection. A read here crosses one event loop instead of
 * Pekko IO's selector, a connection actor and a stream interpreter (docs/PERFORMANCE.md, "Reads on
 * the market-data port").
 *
 * <p>A request it cannot answer gets a problem document, as on the API port: a path it does not
 * serve {@code 404}, a method other than GET {@code 405}, a stream request without the WebSocket
 * upgrade, with an API key or for an unknown market {@code 400}, a token that is not valid {@code
 * 401}.
 */
public final class MarketDataServer implements AutoCloseable {

  /** The request's parameters, from the HTTP handler to the subscription made at the handshake. */
  private static final AttributeKey<StreamRoutes.Request> REQUEST =
      AttributeKey.valueOf("surplus.stream.request");

  private static final String PATH = "/v1/stream";

  private static final String REQUEST_TIMEOUT = "request-timeout";

  /**
   * How long a stream that was closed may take to read what it was sent and the close frame before
   * its connection is dropped (a client that reads nothing more would otherwise hold it for good),
   * as Pekko HTTP's idle timeout drops such a connection on the API's port.
   */
  static final long CLOSE_TIMEOUT_SECONDS = 60;

  private final EventLoopGroup group;
  private final Channel server;

  private MarketDataServer(EventLoopGroup group, Channel server) {
    this.group = group;
    this.server = server;
  }

  /**
   * Listens on {@code host:port} ({@code 0}: a free port) for streams served by {@code routes} and
   * the reads {@code reads} serves (null: streams only); {@code sendBuffer} is each connection's
   * socket send buffer in bytes ({@code 0}: the system's); {@code threads} event loops.
   */
  public static MarketDataServer start(
      StreamRoutes routes, PublicGets reads, String host, int port, int sendBuffer, int threads)
      throws InterruptedException {
    EventLoopGroup group =
        new NioEventLoopGroup(threads, new DefaultThreadFactory("surplus-market-data", true));
    try {
      ServerBootstrap b =
          new ServerBootstrap()
              .group(group)
              .channel(NioServerSocketChannel.class)
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childHandler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      if (sendBuffer > 0) {
                        ch.config().setSendBufferSize(sendBuffer);
                      }
                      ChannelPipeline p = ch.pipeline();
                      // a request must arrive whole in time; the stream, once open, may be quiet
                      p.addLast(REQUEST_TIMEOUT, new ReadTimeoutHandler(10, TimeUnit.SECONDS));
                      p.addLast(new HttpServerCodec());
                      p.addLast(new HttpObjectAggregator(8192));
                      p.addLast(new RequestHandler(routes, reads));
                      p.addLast(
                          new WebSocketServerProtocolHandler(
                              WebSocketServerProtocolConfig.newBuilder()
                                  .websocketPath(PATH)
                                  .checkStartsWith(true)
                                  .handleCloseFrames(true)
                                  .build()));
                      p.addLast(new StreamHandler(routes));
                    }
                  });
      Channel server = b.bind(host, port).sync().channel();
      return new MarketDataServer(group, server);
    } catch (InterruptedException | RuntimeException e) {
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      throw e;
    }
  }

  /** The port it listens on. */
  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /**
   * Stops listening and lets the event loop finish what it was given (the fan-out's close frames at
   * shutdown), for up to two seconds.
   */
  @Override
  public void close() {
    server.close().syncUninterruptibly();
    group.shutdownGracefully(100, 2000, TimeUnit.MILLISECONDS).syncUninterruptibly();
  }

  /**
   * Reads the stream's request; a request that cannot open one is answered here with its problem,
   * and one that can goes on to the WebSocket handshake with its parameters attached.
   */
  private static final class RequestHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final StreamRoutes routes;
    private final PublicGets reads;

    /** The reads of this connection not yet written, oldest first: answers go out in order. */
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();

    RequestHandler(StreamRoutes routes, PublicGets reads) {
      super(false); // a request passed on is released by the handshake
      this.routes = routes;
      this.reads = reads;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      try {
        QueryStringDecoder uri = new QueryStringDecoder(req.uri());
        if (!uri.path().equals(PATH)) {
          if (reads == null) {
            throw Problem.notFound("'" + uri.path() + "': this port serves " + PATH).failure();
          }
          read(ctx, req);
          return;
        }
        if (!req.method().equals(HttpMethod.GET)) {
          throw Problem.of(
                  405,
                  "method-not-allowed",
                  "Method not allowed",
                  PATH + " takes GET (a WebSocket upgrade), not " + req.method(),
                  null)
              .failure();
        }
        Map<String, List<String>> params = uri.parameters();
        StreamRoutes.Request r =
            routes.request(
                name ->
                    Optional.ofNullable(params.get(name))
                        .filter(v -> !v.isEmpty())
                        .map(v -> v.get(0)),
                req.headers().contains(HttpHeaderNames.AUTHORIZATION));
        if (!req.headers()
            .containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
          throw StreamRoutes.websocketRequired("ws://<host>:<market-data port>" + PATH);
        }
        ctx.channel().attr(REQUEST).set(r);
        ctx.fireChannelRead(req);
      } catch (Problem.Failure f) {
        req.release();
        answer(ctx, f.problem());
      } catch (RuntimeException e) {
        req.release();
        answer(
            ctx,
            Problem.of(
                400,
                "bad-request",
                "The request could not be read",
                "the stream request could not be read: " + e.getMessage(),
                null));
      }
    }

    /**
     * A read: answered by {@link PublicGets} and written once every read before it on this
     * connection is; the request is released here.
     */
    private void read(ChannelHandlerContext ctx, FullHttpRequest req) {
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      HttpVersion version = req.protocolVersion();
      String method = req.method().name();
      String uri = req.uri();
      List<Map.Entry<String, String>> headers = req.headers().entries();
      req.release();
      Pending p = new Pending(version, keepAlive);
      pending.add(p);
      reads
          .answer(method, uri, headers)
          .whenComplete(
              (a, failure) -> {
                Runnable ready =
                    () -> {
                      p.answer = a;
                      flush(ctx);
                    };
                if (ctx.executor().inEventLoop()) {
                  ready.run();
                } else {
                  ctx.executor().execute(ready);
                }
              });
    }

    /** Writes the answers ready at the head of the queue, in order; on the event loop. */
    private void flush(ChannelHandlerContext ctx) {
      boolean wrote = false;
      while (!pending.isEmpty() && pending.peek().answer != null) {
        Pending p = pending.poll();
        ctx.write(response(p)).addListener(p.keepAlive ? VOID : ChannelFutureListener.CLOSE);
        wrote = true;
      }
      if (wrote) {
        ctx.flush();
      }
    }

    private static final ChannelFutureListener VOID = f -> {};

    private static FullHttpResponse response(Pending p) {
      PublicGets.Answer a = p.answer;
      DefaultFullHttpResponse res =
          new DefaultFullHttpResponse(
              p.version, HttpResponseStatus.valueOf(a.status()), Unpooled.wrappedBuffer(a.body()));
      HttpHeaders h = res.headers();
      for (Map.Entry<String, String> header : a.headers()) {
        h.add(header.getKey(), header.getValue());
      }
      if (a.contentType() != null) {
        h.set(HttpHeaderNames.CONTENT_TYPE, a.contentType());
      }
      h.setInt(HttpHeaderNames.CONTENT_LENGTH, a.body().remaining());
      h.set(HttpHeaderNames.DATE, Dates.now());
      if (!p.keepAlive) {
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      } else if (p.version.equals(HttpVersion.HTTP_1_0)) {
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      }
      return res;
    }

    /** A read of this connection and, once known, its answer. */
    private static final class Pending {
      final HttpVersion version;
      final boolean keepAlive;
      PublicGets.Answer answer;

      Pending(HttpVersion version, boolean keepAlive) {
        this.version = version;
        this.keepAlive = keepAlive;
      }
    }

    private static void answer(ChannelHandlerContext ctx, Problem p) {
      ByteBuf body = Unpooled.copiedBuffer(Json.write(p), StandardCharsets.UTF_8);
      DefaultFullHttpResponse res =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(p.status()), body);
      res.headers()
          .set(HttpHeaderNames.CONTENT_TYPE, "application/problem+json")
          .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
          .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close(); // a connection that breaks (reset, bad bytes) is simply closed
    }
  }

  /**
   * Once the handshake is done the stream joins the fan-out; whatever its client sends after that
   * (the protocol handler answers pings and closes) is read and dropped.
   */
  private static final class StreamHandler extends SimpleChannelInboundHandler<WebSocketFrame> {
    private final StreamRoutes routes;

    StreamHandler(StreamRoutes routes) {
      this.routes = routes;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
        Channel ch = ctx.channel();
        ch.pipeline().remove(REQUEST_TIMEOUT);
        StreamRoutes.Request r = ch.attr(REQUEST).get();
        AtomicReference<ClosingWebSocket.Close> close = new AtomicReference<>();
        StreamFanOut.Subscriber s =
            new StreamFanOut.Subscriber(
                r.markets(),
                r.followed(),
                r.account(),
                new ChannelOutlet(ch, routes.clientBuffer(), close),
                close);
        ch.closeFuture().addListener(f -> routes.leave(s));
        routes.join(s);
      } else {
        super.userEventTriggered(ctx, evt);
      }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
      // a client's own messages mean nothing on this stream
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /** The {@code Date} header's value, formatted once a second at most. */
  static final class Dates {
    private record Stamp(long second, String text) {}

    private static volatile Stamp stamp = new Stamp(-1, "");

    private Dates() {}

    static String now() {
      long second = System.currentTimeMillis() / 1000;
      Stamp s = stamp;
      if (s.second() != second) {
        s =
            new Stamp(
                second,
                DateTimeFormatter.RFC_1123_DATE_TIME.format(
                    Instant.ofEpochSecond(second).atZone(ZoneOffset.UTC)));
        stamp = s;
      }
      return s.text();
    }
  }

  /**
   * A channel as a stream's outlet: at most {@code buffer} messages written and not yet taken by
   * the socket; an offer beyond that is refused as {@code FULL} (the fan-out then closes the stream
   * as too slow). The count goes down as each write completes.
   */
  static final class ChannelOutlet implements StreamFanOut.Outlet {
    private final Channel channel;
    private final int buffer;
    private final AtomicReference<ClosingWebSocket.Close> close;
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicBoolean completed = new AtomicBoolean();
    private final ChannelFutureListener written;

    ChannelOutlet(Channel channel, int buffer, AtomicReference<ClosingWebSocket.Close> close) {
      this.channel = channel;
      this.buffer = buffer;
      this.close = close;
      this.written = f -> pending.decrementAndGet();
    }

    @Override
    public StreamFanOut.Offered offer(StreamFanOut.Rendered m) {
      if (completed.get() || !channel.isActive()) {
        return StreamFanOut.Offered.GONE;
      }
      if (pending.get() >= buffer) {
        return StreamFanOut.Offered.FULL;
      }
      pending.incrementAndGet();
      channel
          .writeAndFlush(new TextWebSocketFrame(m.bytes()), channel.newPromise())
          .addListener(written);
      return StreamFanOut.Offered.ENQUEUED;
    }

    /** The close frame (the subscriber's code and reason, or a normal close) after the rest. */
    @Override
    public void complete() {
      if (!completed.compareAndSet(false, true)) {
        throw new IllegalStateException("the stream has ended");
      }
      ClosingWebSocket.Close c = close.get();
      CloseWebSocketFrame frame =
          c == null
              ? new CloseWebSocketFrame(1000, "")
              : new CloseWebSocketFrame(c.code(), c.reason());
      channel.writeAndFlush(frame).addListener(ChannelFutureListener.CLOSE);
      channel.eventLoop().schedule(() -> channel.close(), CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }
  }
}
