// Session: one client connection (WebSocket today; any transport later), on its I/O thread.
//
// Responsibilities: decode frames with the shared codec, enforce hello-first, authentication,
// limits and the rate limit, and turn requests into hub/storage requests. Results come back as
// posted calls through IoThread::runOnSession() (by session id, never by pointer across threads).
//
// Outbound bound: before a live frame is written, if the socket already holds more than
// maxOutboundBytes unsent, the client is a slow consumer and is closed with 4003 (it reconnects
// and replays what it missed). Replies to its own requests are always written: they are bounded
// by the client's own requests, which a WebSocket stops reading while its queue is over the
// bound (websocket/websocketconnection.h).
//
// Resume: for each `hello` resume cursor the session joins the room, sends the missed messages
// from storage (in chunks, seq > cursor up to the room's last seq at join time), then
// `recovered`. Live messages of that room arriving meanwhile are held on the session (bounded;
// overflow is a slow consumer) and sent after `recovered`: the hub's join reply and its later
// fan-outs reach this thread in order, so live messages are exactly those after the join's
// last_seq, and the seam has no gap and no duplicate.
//
// Transport-agnostic: frames go out through a SessionSink (WebSocketSink, or HttpSink for the
// HTTP transports) and come in through receiveText(). A plain class, not a QObject; the I/O
// thread owns it. Kept small: memory per connection matters (issue 3).
#pragma once

#include "hub/fanouttarget.h"
#include "protocol/frames.h"
#include "ratelimiter.h"
#include "sendbarrier.h"
#include "sessionsink.h"
#include "storage/messagestore.h"
#include "storage/storageworker.h"
#include "websocket/closecode.h"
#include "websocket/textframe.h"

#include <QByteArrayView>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley::server {

class IoThread;

class Session {
public:
    //! Live frames held for one room while its replay runs; more is a slow consumer (4003).
    static constexpr std::size_t kMaxHeldFrames = 10000;
    //! Messages fetched from storage per replay step.
    static constexpr std::uint32_t kReplayChunk = 500;

    Session(IoThread& io, std::uint64_t id, std::unique_ptr<SessionSink> sink);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    std::uint64_t id() const { return m_id; }
    //! The authenticated user; empty before hello.
    const std::string& user() const { return m_user; }
    //! A direct message for this session's user (sessiondirect.cpp).
    void deliverDirect(const TextFrame& frame);
    SessionSink& sink() const { return *m_sink; }
    bool isClosing() const { return m_state == State::Closing; }

    //! One text frame from the client (any transport), UTF-8.
    void receiveText(QByteArrayView text);
    //! The client showed it is alive without sending a frame (an HTTP stream or poll attached).
    void touch(std::int64_t nowMs) { m_lastSeenMs = nowMs; }
    //! A binary frame from the client: a protocol violation.
    void receiveBinary();
    //! A ping or pong from the client: it counts toward the frame rate limit. One before hello
    //! or over the limit closes the session with 1008 (no error frame could answer it); returns
    //! whether it is accepted (a ping then gets its pong).
    bool receiveControl();

    //! A live frame for `room` (seq 0: not part of the stream, e.g. presence).
    void deliverLive(const std::string& room, std::uint64_t seq, const TextFrame& frame);
    //! The hub answered a join.
    void onJoinCompleted(const JoinResult& result);
    //! Starts the close handshake with `code`; further input is ignored.
    void close(CloseCode code);
    //! The connection is gone: leave every room (local and hub). Idempotent.
    void detach();
    //! Sweep: closes the session if it has not said hello in time (4005), if its transport's
    //! deadlines passed, or if it was silent for two heartbeat intervals; aborts it if its close
    //! handshake is taking too long.
    void checkTimeouts(std::int64_t nowMs);

private:
    enum class State : std::uint8_t { AwaitingHello, Welcomed, Closing };
    enum class Phase : std::uint8_t { Joining, Joined, Replaying };
    struct RoomState {
        Phase phase = Phase::Joining;
        std::optional<protocol::Cursor> resume; // hello cursor still to be honoured
        std::string epoch;
        std::uint64_t replayNext = 0; // last seq sent by the replay so far
        std::uint64_t replayUpTo = 0; // room's last seq at join time
        std::uint64_t missingFrom = 0; // gap found during replay (retention), 0 = none
        std::uint64_t missingTo = 0;
        std::vector<std::pair<std::uint64_t, TextFrame>> held; // live frames during the replay
        std::unique_ptr<SendBarrier> barrier; // up after a retryable send refusal, else null
    };

    void handle(const protocol::Hello& hello);
    void handle(const protocol::Join& join);
    void handle(const protocol::Leave& leave);
    void handle(const protocol::Send& send);
    void handle(const protocol::Heartbeat& heartbeat);
    void handle(const protocol::HistoryRequest& request);
    void handle(const protocol::PresenceQuery& query);
    void handle(const protocol::Direct& direct); // sessiondirect.cpp
    void onDirectRouted(const protocol::Direct& direct, const protocol::DirectMessage& message,
        bool ok, bool delivered);

    // Presence (sessionpresence.cpp): this session's part of the user's online state.
    //! Tells the presence manager the session is alive, with its joined rooms.
    void reportAlive(std::int64_t nowMs);
    //! Refreshes the session's presence entry at least every ttl/3 (from checkTimeouts()).
    void refreshPresence(std::int64_t nowMs);
    void reportDown();
    std::string presenceKey() const;

    void startJoin(const std::string& room, const std::string& requestId,
        std::optional<protocol::Cursor> resume);
    void requestReplayChunk(const std::string& room, RoomState& state);
    void onReplayChunk(const std::string& room, const HistoryResult& result);
    void finishReplay(const std::string& room, RoomState& state);
    //! Refuses a send with a retryable `code` and raises (or extends) the room's send barrier,
    //! so the client's later sends to the room cannot overtake the refused one.
    void refuseSend(const protocol::Send& request, protocol::ErrorCode code, std::string message);
    void onAppended(const std::string& room, const std::string& requestId,
        const std::string& clientId, const StorageWorker::AppendReply& reply);
    void onHistory(
        const std::string& requestId, const std::string& room, const HistoryResult& result);

    void send(const protocol::ServerFrame& frame);
    void sendFrame(const TextFrame& frame);
    void sendError(const std::string& id, protocol::ErrorCode code, std::string message,
        const std::string& clientId = {});
    bool isSlowConsumer() const;

    IoThread& m_io;
    std::unique_ptr<SessionSink> m_sink;
    const std::uint64_t m_id;
    State m_state = State::AwaitingHello;
    bool m_detached = false;
    std::uint32_t m_openedMs; // monotonicMs() truncated: the hello deadline counts from here
    std::int64_t m_lastSeenMs;
    std::int64_t m_closingSinceMs = 0;
    std::int64_t m_presenceReportedMs = 0;
    RateLimiter m_rate;
    std::string m_user;
    std::unordered_map<std::string, RoomState> m_rooms;
};

} // namespace parley::server
