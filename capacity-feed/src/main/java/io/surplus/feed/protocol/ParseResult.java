package io.surplus.feed.protocol;

/**
 * What {@link FeedParser} makes of one line: a complete {@link FeedEvent} or a {@link FeedError}.
 */
public sealed interface ParseResult permits FeedEvent, FeedError {}
