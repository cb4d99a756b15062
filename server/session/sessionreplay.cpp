// Session: joins (the hub's answers) and the replay of a resumed room.
#include "app/servercontext.h"
#include "broker/broker.h"
#include "common/clock.h"
#include "io/iothread.h"
#include "session.h"

#include <QLoggingCategory>

namespace parley::server {

Q_DECLARE_LOGGING_CATEGORY(lcSession)

// --- joins and replay --------------------------------------------------------------------------

void Session::onJoinCompleted(const JoinResult& result)
{
    if (m_state == State::Closing) {
        return;
    }
    Turn turn(*this); // the frames waiting for this join start when it ends
    const auto it = m_rooms.find(result.room);
    if (it == m_rooms.end()) {
        return; // a join in flight keeps its room (frames for it, leaves too, wait)
    }
    RoomState& state = it->second;
    const bool answersRequest = state.joinIsRequest;
    const Ticket ticket = state.joinTicket;
    state.joinInFlight = false;
    state.joinIsRequest = false;
    m_order.wake(result.room);
    if (!result.ok) {
        if (state.phase == Phase::Joining) {
            m_rooms.erase(it);
        }
        if (answersRequest) {
            replyError(ticket, result.requestId, result.error, result.errorMessage);
        } else {
            pushError(result.error, "resume: " + result.errorMessage);
        }
        return;
    }
    const bool firstReply = state.phase == Phase::Joining;
    if (firstReply) {
        state.phase = Phase::Joined;
        state.epoch = result.epoch;
        m_io.addRoomMember(result.room, this);
        reportAlive(monotonicMs());
    }
    protocol::Joined joined;
    joined.id = result.requestId;
    joined.room = result.room;
    joined.cursor = protocol::Cursor { result.epoch, result.lastSeq };
    joined.members = result.members;
    // A client's join started with every earlier request answered and nothing after it can be
    // answered first: this goes out now, before any live message of the room.
    if (answersRequest) {
        reply(ticket, joined);
    } else {
        push(joined);
    }
    if (!firstReply || !state.resume) {
        return;
    }
    const protocol::Cursor cursor = *state.resume;
    state.resume.reset();
    if (cursor.epoch != result.epoch) {
        // A cursor from another stream: nothing in it can be replayed.
        protocol::Recovered recovered;
        recovered.room = result.room;
        recovered.cursor = protocol::Cursor { result.epoch, result.lastSeq };
        recovered.recovered = false;
        recovered.epochChanged = true;
        push(recovered);
        return;
    }
    state.phase = Phase::Replaying;
    state.replayNext = cursor.seq;
    state.replayUpTo = result.lastSeq;
    if (cursor.seq > result.lastSeq) {
        checkCursorAhead(result.room, state, cursor.seq);
        return;
    }
    if (state.replayNext >= state.replayUpTo) {
        finishReplay(result.room, state);
        return;
    }
    requestReplayChunk(result.room, state);
}

void Session::checkCursorAhead(const std::string& room, RoomState& state, std::uint64_t cursorSeq)
{
    // The room stays Replaying meanwhile: its live frames are held, then sent by finishReplay()
    // past the position it announces.
    Broker* storage = m_io.context().broker;
    if (!storage->tryReserve()) {
        finishReplay(room, state, true); // cannot tell: never claim what may be lost
        return;
    }
    HistoryQuery query;
    query.room = room;
    query.afterSeq = cursorSeq; // no message wanted: the position comes with the answer
    query.maxSeq = cursorSeq;
    query.limit = 1;
    IoThread* io = &m_io;
    const std::uint64_t id = m_id;
    storage->read(std::move(query), [io, id, room, cursorSeq](const HistoryResult& result) {
        io->runOnSession(id, [room, cursorSeq, result](Session& session) {
            session.onCursorChecked(room, cursorSeq, result);
        });
    });
}

void Session::onCursorChecked(
    const std::string& room, std::uint64_t cursorSeq, const HistoryResult& result)
{
    if (m_state == State::Closing) {
        return;
    }
    const auto it = m_rooms.find(room);
    if (it == m_rooms.end() || it->second.phase != Phase::Replaying) {
        return;
    }
    RoomState& state = it->second;
    if (result.ok && result.position.epoch == state.epoch && result.position.lastSeq >= cursorSeq) {
        // Storage has the cursor's messages: the hub had not published them yet (in a cluster,
        // this node's view lags by a moment). The client has everything up to its cursor; the
        // live frames up to it are ones it delivered already.
        state.replayUpTo = cursorSeq;
        finishReplay(room, state);
        return;
    }
    // The room really is behind the cursor (history lost and its seqs to be reused), or storage
    // cannot say: the client must restart at the room's position, not skip what comes next.
    finishReplay(room, state, true);
}

void Session::requestReplayChunk(const std::string& room, RoomState& state)
{
    Broker* storage = m_io.context().broker;
    if (!storage->tryReserve()) {
        // Cannot read now: say honestly what is missing rather than stall the room.
        state.missingFrom = state.missingFrom ? state.missingFrom : state.replayNext + 1;
        state.missingTo = state.replayUpTo;
        finishReplay(room, state);
        return;
    }
    HistoryQuery query;
    query.room = room;
    query.afterSeq = state.replayNext;
    query.maxSeq = state.replayUpTo;
    query.limit = kReplayChunk;
    IoThread* io = &m_io;
    const std::uint64_t id = m_id;
    storage->read(std::move(query), [io, id, room](const HistoryResult& result) {
        io->runOnSession(
            id, [room, result](Session& session) { session.onReplayChunk(room, result); });
    });
}

void Session::onReplayChunk(const std::string& room, const HistoryResult& result)
{
    if (m_state == State::Closing) {
        return;
    }
    const auto it = m_rooms.find(room);
    if (it == m_rooms.end() || it->second.phase != Phase::Replaying) {
        return;
    }
    RoomState& state = it->second;
    if (!result.ok || result.position.epoch != state.epoch) {
        state.missingFrom = state.missingFrom ? state.missingFrom : state.replayNext + 1;
        state.missingTo = state.replayUpTo;
        finishReplay(room, state);
        return;
    }
    for (const protocol::Message& message : result.messages) {
        if (message.seq != state.replayNext + 1 && !state.missingFrom) {
            // Not retained any more (retention trimmed it): report the hole, send the rest.
            state.missingFrom = state.replayNext + 1;
            state.missingTo = message.seq - 1;
        }
        push(message);
        state.replayNext = message.seq;
    }
    if (!result.hasMore || result.messages.empty() || state.replayNext >= state.replayUpTo) {
        if (state.replayNext < state.replayUpTo && !state.missingFrom) {
            state.missingFrom = state.replayNext + 1;
            state.missingTo = state.replayUpTo;
        }
        finishReplay(room, state);
        return;
    }
    requestReplayChunk(room, state);
}

void Session::finishReplay(const std::string& room, RoomState& state, bool cursorAhead)
{
    protocol::Recovered recovered;
    recovered.room = room;
    recovered.cursor = protocol::Cursor { state.epoch, state.replayUpTo };
    recovered.recovered = !cursorAhead && state.missingFrom == 0;
    recovered.cursorAhead = cursorAhead;
    recovered.missingFrom = state.missingFrom;
    recovered.missingTo = state.missingTo;
    push(recovered);
    state.phase = Phase::Joined;
    qCDebug(lcSession, "event=replay_done session=%llu held=%zu", (unsigned long long)m_id,
        state.held.size());
    auto held = std::move(state.held);
    state.held.clear();
    for (const auto& [seq, frame] : held) {
        if (seq == 0 || seq > state.replayUpTo) {
            sendFrame(frame);
        }
    }
}

void Session::deliverLive(const std::string& room, std::uint64_t seq, const TextFrame& frame)
{
    if (m_state == State::Closing) {
        return;
    }
    const auto it = m_rooms.find(room);
    if (it == m_rooms.end()) {
        return;
    }
    if (it->second.phase == Phase::Replaying) {
        if (it->second.held.size() >= kMaxHeldFrames) {
            close(CloseCode::SlowConsumer);
            return;
        }
        it->second.held.emplace_back(seq, frame);
        return;
    }
    if (isSlowConsumer()) {
        close(CloseCode::SlowConsumer);
        return;
    }
    sendFrame(frame);
}

} // namespace parley::server
