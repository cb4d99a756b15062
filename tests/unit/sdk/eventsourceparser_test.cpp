// EventSourceParser against the WHATWG event-stream rules, table-driven. Every case is also fed
// one byte at a time and split at every position: the events must not depend on chunking.
#include "transport/eventsourceparser.h"

#include <gtest/gtest.h>

using parley::EventSourceParser;
using Event = EventSourceParser::Event;

namespace {

struct Case {
    const char* name;
    QByteArray stream;
    QList<Event> events;
    std::optional<int> retry = std::nullopt;
};

QList<Event> feedAll(const QByteArray& stream)
{
    EventSourceParser parser;
    return parser.feed(stream);
}

QList<Event> feedSplit(const QByteArray& stream, qsizetype at)
{
    EventSourceParser parser;
    QList<Event> events = parser.feed(QByteArrayView(stream).first(at));
    events += parser.feed(QByteArrayView(stream).sliced(at));
    return events;
}

QList<Event> feedBytes(const QByteArray& stream)
{
    EventSourceParser parser;
    QList<Event> events;
    for (char c : stream) {
        events += parser.feed(QByteArrayView(&c, 1));
    }
    return events;
}

Event ev(const char* data, const char* id = "", const char* type = "message")
{
    return Event { type, data, id };
}

} // namespace

TEST(EventSourceParser, FollowsTheWhatwgRules)
{
    const Case cases[] = {
        { "single", "data: hello\n\n", { ev("hello") } },
        { "no space after colon", "data:hello\n\n", { ev("hello") } },
        { "only one space stripped", "data:  two\n\n", { ev(" two") } },
        { "multi-line data", "data: a\ndata: b\ndata:\n\n", { ev("a\nb\n") } },
        { "CRLF", "data: a\r\ndata: b\r\n\r\n", { ev("a\nb") } },
        { "CR only", "data: a\rdata: b\r\r", { ev("a\nb") } },
        { "mixed line ends", "data: a\r\ndata: b\rdata: c\n\n", { ev("a\nb\nc") } },
        { "comment ignored", ": keep-alive\n\ndata: x\n\n", { ev("x") } },
        { "comment between fields", "data: a\n: note\ndata: b\n\n", { ev("a\nb") } },
        { "event type", "event: close\ndata: {}\n\n", { ev("{}", "", "close") } },
        { "type resets after dispatch", "event: x\ndata: 1\n\ndata: 2\n\n",
            { ev("1", "", "x"), ev("2") } },
        { "id", "id: 7\ndata: x\n\n", { ev("x", "7") } },
        { "id persists", "id: 7\ndata: x\n\ndata: y\n\n", { ev("x", "7"), ev("y", "7") } },
        { "empty id resets", "id: 7\ndata: x\n\nid\ndata: y\n\n", { ev("x", "7"), ev("y", "") } },
        { "id with NUL ignored", QByteArray("id: 1\0\ndata: x\n\n", 16), { ev("x", "") } },
        { "no data no event", "event: x\n\nid: 3\n\n", {} },
        { "unterminated event not dispatched", "data: x\n", {} },
        { "unknown field ignored", "foo: bar\ndata: x\n\n", { ev("x") } },
        { "field without colon", "data\ndata\n\n", { ev("\n") } },
        { "BOM stripped",
            "\xEF\xBB\xBF"
            "data: x\n\n",
            { ev("x") } },
        { "retry", "retry: 2500\n\n", {}, 2500 },
        { "retry not digits ignored", "retry: 25s\n\nretry: -1\n\n", {} },
        { "colon in value kept", "data: a:b\n\n", { ev("a:b") } },
        { "json frame", "id: 12\ndata: {\"type\":\"message\",\"body\":\"hi\"}\n\n",
            { ev("{\"type\":\"message\",\"body\":\"hi\"}", "12") } },
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_EQ(feedAll(c.stream), c.events);
        EXPECT_EQ(feedBytes(c.stream), c.events);
        for (qsizetype at = 0; at <= c.stream.size(); ++at) {
            EXPECT_EQ(feedSplit(c.stream, at), c.events) << "split at " << at;
        }
        EventSourceParser parser;
        parser.feed(c.stream);
        EXPECT_EQ(parser.retryMs(), c.retry);
    }
}

TEST(EventSourceParser, LastEventIdIsKeptForReconnects)
{
    EventSourceParser parser;
    parser.feed("id: 41\ndata: a\n\nid: 42\ndata: b\n\n");
    EXPECT_EQ(parser.lastEventId(), QByteArray("42"));
}

TEST(EventSourceParser, AnOverlongLineIsAnErrorNotUnboundedMemory)
{
    EventSourceParser parser(64);
    EXPECT_TRUE(parser.feed("data: " + QByteArray(100, 'x')).isEmpty());
    EXPECT_TRUE(parser.hasError());
    EXPECT_TRUE(parser.feed("\n\ndata: y\n\n").isEmpty());
}
