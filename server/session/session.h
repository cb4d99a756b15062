// Session: one client's conversation with the server, on its I/O thread, whatever its transport.
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
// Request order (requestorder.h, docs/protocol.md "Request order"): every frame is a request
// with a ticket and gets exactly one answer, and answers leave in the order the requests came.
// A frame takes effect in the order sent: a frame for a room whose join is in flight waits for
// that join (and the frames for that room behind it wait too); a join or a history starts only
// once every earlier request is answered, so a history sees every send before it and a `joined`
// goes out the moment the hub answers, before any live message of the room. Everything else
// starts at once (sends pipeline to storage). Waiting frames are bounded (kMaxWaitingFrames,
// kMinWaitingBytes or 4 frames of max_frame_bytes): past that the session closes with 4003. Held
// answers count with the sink's queue against twice maxOutboundBytes (4003 as well).
//
// Transport-agnostic: frames go out through a SessionSink (WebSocketSink, or HttpSink for the
// HTTP transports) and come in through receiveText(). A plain class, not a QObject; the I/O
// thread owns it. Kept small: memory per connection matters (2-3 KiB per idle client).
#pragma once

#include "caps/capslot.h"
#include "hub/fanouttarget.h"
#include "protocol/frames.h"
#include "ratelimiter.h"
#include "requestorder.h"
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
    //! Bytes of frames that may wait for an outcome (a join in flight) at once, at least; four
    //! frames of max_frame_bytes if more (one HTTP batch). Past it: close 4003.
    static constexpr std::size_t kMinWaitingBytes = 1024 * 1024;

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
    using Ticket = RequestOrder::Ticket;
    using Request = RequestOrder::Waiting;
    enum class State : std::uint8_t { AwaitingHello, Welcomed, Closing };
    enum class Phase : std::uint8_t { Joining, Joined, Replaying };
    struct RoomState {
        Phase phase = Phase::Joining;
        // A join of this room is with the hub (a first join, a rejoin or a resume): frames for
        // the room wait for its answer. joinIsRequest: it answers the client's request
        // joinTicket (else it is a resume join, answered by a `joined` without id).
        bool joinInFlight = false;
        bool joinIsRequest = false;
        Ticket joinTicket = 0;
        std::optional<protocol::Cursor> resume; // hello cursor still to be honoured
        std::string epoch;
        std::uint64_t replayNext = 0; // last seq sent by the replay so far
        std::uint64_t replayUpTo = 0; // room's last seq at join time
        std::uint64_t missingFrom = 0; // gap found during replay (retention), 0 = none
        std::uint64_t missingTo = 0;
        std::vector<std::pair<std::uint64_t, TextFrame>> held; // live frames during the replay
        std::unique_ptr<SendBarrier> barrier; // up after a retryable send refusal, else null
    };

    // One turn of work on the session (a frame received, an asynchronous answer): frames that
    // became free to start meanwhile start when the outermost turn ends, never inside a
    // handler.
    class Turn {
    public:
        explicit Turn(Session& session)
            : m_session(session)
        {
            ++m_session.m_depth;
        }
        ~Turn()
        {
            if (--m_session.m_depth == 0) {
                m_session.pump();
            }
        }
        Turn(const Turn&) = delete;
        Turn& operator=(const Turn&) = delete;

    private:
        Session& m_session;
    };

    //! Starts `request` now, or makes it wait for what it depends on.
    void admit(Request request);
    //! Whether `request` (for `room`) must wait: for the room's join, behind earlier frames of
    //! the room, or (join, history) for every earlier request to be answered.
    bool mustWait(const std::string& room, const Request& request);
    void dispatch(Request request);
    //! Starts the frames waiting for `room` that may start now, in order.
    void drainRoom(const std::string& room);
    void pump();

    void handle(Ticket ticket, const protocol::Hello& hello);
    void handle(Ticket ticket, const protocol::Join& join);
    void handle(Ticket ticket, const protocol::Leave& leave);
    void handle(Ticket ticket, const protocol::Send& send);
    void handle(Ticket ticket, const protocol::Heartbeat& heartbeat);
    void handle(Ticket ticket, const protocol::HistoryRequest& request);
    void handle(Ticket ticket, const protocol::PresenceQuery& query); // sessionpresence.cpp
    void handle(Ticket ticket, const protocol::Direct& direct); // sessiondirect.cpp
    void onDirectRouted(Ticket ticket, const protocol::Direct& direct,
        const protocol::DirectMessage& message, bool ok, bool delivered);

    // Presence (sessionpresence.cpp): this session's part of the user's online state.
    //! Tells the presence manager the session is alive, with its joined rooms.
    void reportAlive(std::int64_t nowMs);
    //! Refreshes the session's presence entry at least every ttl/3 (from checkTimeouts()).
    void refreshPresence(std::int64_t nowMs);
    void reportDown();
    std::string presenceKey() const;

    //! Joins `room`; `ticket` is the client's join request it answers (none for a resume).
    void startJoin(const std::string& room, const std::string& requestId,
        std::optional<protocol::Cursor> resume, std::optional<Ticket> ticket);
    void requestReplayChunk(const std::string& room, RoomState& state);
    void onReplayChunk(const std::string& room, const HistoryResult& result);
    //! A resume cursor of the room's epoch past the hub's last seq: storage says whether the
    //! hub is just behind (the client has it all) or the room really is behind the cursor.
    void checkCursorAhead(const std::string& room, RoomState& state, std::uint64_t cursorSeq);
    void onCursorChecked(
        const std::string& room, std::uint64_t cursorSeq, const HistoryResult& result);
    void finishReplay(const std::string& room, RoomState& state, bool cursorAhead = false);
    //! Refuses a send with a retryable `code` and raises (or extends) the room's send barrier,
    //! so the client's later sends to the room cannot overtake the refused one.
    void refuseSend(Ticket ticket, const protocol::Send& request, protocol::ErrorCode code,
        std::string message);
    void onAppended(Ticket ticket, const std::string& room, const std::string& requestId,
        const std::string& clientId, const StorageWorker::AppendReply& reply);
    void onHistory(Ticket ticket, const std::string& requestId, const std::string& room,
        const HistoryResult& result);

    //! The one answer to request `ticket`: sent once every earlier request is answered.
    void reply(Ticket ticket, const protocol::ServerFrame& frame);
    void replyError(Ticket ticket, const std::string& id, protocol::ErrorCode code,
        std::string message, const std::string& clientId = {});
    //! A frame the server sends on its own (live, replay, resume), at once.
    void push(const protocol::ServerFrame& frame);
    void pushError(protocol::ErrorCode code, std::string message);
    void sendFrame(const TextFrame& frame);
    bool isSlowConsumer() const;

    IoThread& m_io;
    std::unique_ptr<SessionSink> m_sink;
    const std::uint64_t m_id;
    State m_state = State::AwaitingHello;
    bool m_detached = false;
    std::uint8_t m_depth = 0; // nesting of Turns
    std::uint32_t m_openedMs; // monotonicMs() truncated: the hello deadline counts from here
    std::int64_t m_lastSeenMs;
    std::int64_t m_closingSinceMs = 0;
    std::int64_t m_presenceReportedMs = 0;
    RateLimiter m_rate;
    RequestOrder m_order;
    std::string m_user;
    CapSlot m_userSlot; // the session's place under --max-sessions-per-user, from its welcome
    std::unordered_map<std::string, RoomState> m_rooms;
};

} // namespace parley::server
