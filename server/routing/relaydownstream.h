// RelayDownstream: an HttpDownstream whose client is connected to another node of the cluster.
//
// The owner of an HTTP session attaches one to the session's HttpSink when another node (the
// holder) received the client's GET /v1/sse or /v1/poll and relayed it here (routing/noderouter.h,
// "relayed responses"). Everything the sink writes is published to the holder, which writes it to
// the client: the same bytes, in the same order, as a local response.
//
// - start() acknowledges the open, with the longest silence the holder must expect from us
//   (the keep-alive or poll timeout, plus a sweep): a holder that hears nothing for longer gives
//   up (504).
// - Writes are coalesced per event-loop turn (a fan-out that hands the session several frames
//   in one turn makes one PUBLISH); finish() publishes the rest with the end mark.
// - bytesToWrite() is what was published and not yet confirmed by Redis, plus what waits for the
//   next turn: the sink's slow-consumer bound applies to it like to a socket's buffer. The
//   holder bounds the client's own socket buffer.
// - The holder is gone when it says so (holderGone(), from its {k:"x"}) or when a PUBLISH reached
//   nobody (the holder died or lost Redis): isHolderGone() turns true at once (any thread) and the
//   I/O thread's sweep calls holderGone(). Either way the downstream deletes itself, and the
//   session keeps its frames for the client's next request.
//
// Lives on the session's I/O thread, like the sink.
#pragma once

#include "http/httpdownstream.h"
#include "noderouter.h"

#include <atomic>
#include <memory>

namespace parley::server {

class RelayDownstream final : public HttpDownstream {
public:
    RelayDownstream(NodeRouter& router, RelayLink link, int silenceMs, QObject* parent);

    const RelayLink& link() const { return m_link; }
    //! Acknowledges the relay's open to the holder; call before the sink writes.
    void start();
    //! The holder let go: nothing more is published; deletes itself.
    void holderGone();
    //! A part reached nobody: the sweep should call holderGone().
    bool isHolderGone() const { return m_shared->unreachable.load(std::memory_order_relaxed); }

    void write(const QByteArray& bytes) override;
    void flush() override;
    qint64 bytesToWrite() const override;
    void finish() override;
    void abort() override;

private:
    //! Shared with the router's thread, which confirms publishes.
    struct Shared {
        std::atomic<qint64> inFlight { 0 };
        std::atomic<bool> unreachable { false };
    };

    void publish(bool end, int status);

    NodeRouter& m_router;
    const RelayLink m_link;
    const int m_silenceMs;
    std::shared_ptr<Shared> m_shared = std::make_shared<Shared>();
    QByteArray m_buffer;
    bool m_flushPosted = false;
    bool m_done = false;
};

} // namespace parley::server
