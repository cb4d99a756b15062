#include "deliverytracker.h"

namespace parley {

DeliveryTracker::DeliveryTracker(int maxHeld)
    : m_maxHeld(maxHeld)
{
}

DeliveryTracker::Outcome DeliveryTracker::anchor(
    const QString& room, const QString& epoch, quint64 lastSeq)
{
    Outcome outcome;
    RoomState& state = m_rooms[room];
    if (state.anchored && state.epoch == epoch) {
        // A rejoin of the same stream: our cursor is the resume point. Anything the server holds
        // beyond it arrives by replay or by fetching; it must not be skipped here.
        if (lastSeq > state.lastSeq && state.held.empty()) {
            outcome.missing = Range { state.lastSeq + 1, lastSeq };
        }
        drain(state, outcome);
        return outcome;
    }
    outcome.streamReset = state.anchored;
    state.anchored = true;
    state.epoch = epoch;
    state.lastSeq = lastSeq;
    // Held messages of another stream, or at/below the anchor, were never ours to deliver.
    for (auto it = state.held.begin(); it != state.held.end();) {
        if (it->second.epoch != epoch || it->first <= lastSeq) {
            it = state.held.erase(it);
        } else {
            ++it;
        }
    }
    drain(state, outcome);
    return outcome;
}

DeliveryTracker::Outcome DeliveryTracker::restart(
    const QString& room, const QString& epoch, quint64 lastSeq)
{
    RoomState& state = m_rooms[room];
    const bool wasAnchored = state.anchored;
    // Held messages are of the stream as the server had it before: anchor() keeps only those
    // after lastSeq, which are new in either view.
    state.anchored = false;
    Outcome outcome = anchor(room, epoch, lastSeq);
    outcome.streamReset = wasAnchored;
    return outcome;
}

DeliveryTracker::Outcome DeliveryTracker::accept(const Message& message)
{
    Outcome outcome;
    RoomState& state = m_rooms[message.room];
    if (!state.anchored) {
        if (state.held.contains(message.seq)) {
            ++outcome.duplicates;
        } else if (int(state.held.size()) < m_maxHeld) {
            state.held.emplace(message.seq, message);
        }
        return outcome;
    }
    if (message.epoch != state.epoch) {
        // The room's history was reset on the server: this message starts the new stream.
        outcome.streamReset = true;
        state.epoch = message.epoch;
        state.lastSeq = message.seq > 0 ? message.seq - 1 : 0;
        state.held.clear();
    }
    if (message.seq <= state.lastSeq || state.held.contains(message.seq)) {
        ++outcome.duplicates;
        return outcome;
    }
    state.held.emplace(message.seq, message);
    drain(state, outcome);
    giveUpIfFull(state, outcome);
    if (!state.held.empty()) {
        outcome.missing = Range { state.lastSeq + 1, state.held.begin()->first - 1 };
    }
    return outcome;
}

DeliveryTracker::Outcome DeliveryTracker::skipTo(const QString& room, quint64 seq)
{
    Outcome outcome;
    const auto it = m_rooms.find(room);
    if (it == m_rooms.end() || !it->anchored || seq <= it->lastSeq) {
        return outcome;
    }
    RoomState& state = *it;
    // Held messages inside the skipped range are still delivered: only true holes are skipped.
    while (!state.held.empty() && state.held.begin()->first <= seq) {
        const quint64 next = state.held.begin()->first;
        if (next > state.lastSeq + 1) {
            outcome.gaps.append(Range { state.lastSeq + 1, next - 1 });
        }
        outcome.deliver.append(std::move(state.held.begin()->second));
        state.held.erase(state.held.begin());
        state.lastSeq = next;
    }
    if (seq > state.lastSeq) {
        outcome.gaps.append(Range { state.lastSeq + 1, seq });
        state.lastSeq = seq;
    }
    drain(state, outcome);
    if (!state.held.empty()) {
        outcome.missing = Range { state.lastSeq + 1, state.held.begin()->first - 1 };
    }
    return outcome;
}

void DeliveryTracker::drain(RoomState& state, Outcome& outcome)
{
    while (!state.held.empty() && state.held.begin()->first == state.lastSeq + 1) {
        outcome.deliver.append(std::move(state.held.begin()->second));
        state.held.erase(state.held.begin());
        ++state.lastSeq;
    }
}

void DeliveryTracker::giveUpIfFull(RoomState& state, Outcome& outcome)
{
    if (int(state.held.size()) <= m_maxHeld) {
        return;
    }
    const quint64 next = state.held.begin()->first;
    outcome.gaps.append(Range { state.lastSeq + 1, next - 1 });
    state.lastSeq = next - 1;
    drain(state, outcome);
}

std::optional<DeliveryTracker::Cursor> DeliveryTracker::cursor(const QString& room) const
{
    const auto it = m_rooms.constFind(room);
    if (it == m_rooms.constEnd() || !it->anchored) {
        return std::nullopt;
    }
    return Cursor { it->epoch, it->lastSeq };
}

QHash<QString, DeliveryTracker::Cursor> DeliveryTracker::cursors() const
{
    QHash<QString, Cursor> result;
    for (auto it = m_rooms.constBegin(); it != m_rooms.constEnd(); ++it) {
        if (it->anchored) {
            result.insert(it.key(), Cursor { it->epoch, it->lastSeq });
        }
    }
    return result;
}

bool DeliveryTracker::isAnchored(const QString& room) const
{
    const auto it = m_rooms.constFind(room);
    return it != m_rooms.constEnd() && it->anchored;
}

std::optional<DeliveryTracker::Range> DeliveryTracker::missing(const QString& room) const
{
    const auto it = m_rooms.constFind(room);
    if (it == m_rooms.constEnd() || !it->anchored || it->held.empty()) {
        return std::nullopt;
    }
    return Range { it->lastSeq + 1, it->held.begin()->first - 1 };
}

int DeliveryTracker::heldCount(const QString& room) const
{
    const auto it = m_rooms.constFind(room);
    return it == m_rooms.constEnd() ? 0 : int(it->held.size());
}

void DeliveryTracker::forget(const QString& room)
{
    m_rooms.remove(room);
}

} // namespace parley
