// DeliveryTracker: per room, the position delivered to the application and the guard that turns
// the frames arriving from the server into "each (room, seq) once, in order".
//
// Pure bookkeeping (no I/O): the Client feeds it `joined` cursors and `message` frames (live,
// replayed or fetched to fill a hole) and delivers what it returns.
//
// Contract:
// - accept() returns messages only in strictly increasing seq order with no hole, each once.
//   Duplicates (seq at or below the cursor, or already held) are dropped.
// - A message beyond the next expected seq is held (at most maxHeld per room) until the hole
//   fills. Outcome::missing names the hole so the caller can fetch it. When the hold is full the
//   tracker stops waiting: it reports the hole in Outcome::gaps and moves on.
// - Messages arriving before the room is anchored (before its `joined`) are held and sorted out
//   by anchor().
// - cursor() is the resume position for `hello`: the last delivered (epoch, seq).
#pragma once

#include <parley/message.h>

#include <QHash>
#include <QList>
#include <QString>

#include <map>
#include <optional>

namespace parley {

class DeliveryTracker {
public:
    struct Range {
        quint64 from = 0;
        quint64 to = 0; //!< inclusive
        bool operator==(const Range&) const = default;
    };

    struct Outcome {
        QList<Message> deliver; //!< in seq order, each new
        QList<Range> gaps; //!< given up: these seqs will not be delivered (ascending)
        std::optional<Range> missing; //!< held messages wait for these seqs: worth fetching
        bool streamReset = false; //!< the room's epoch changed; the cursor restarted
        int duplicates = 0; //!< messages dropped as already delivered or held
    };

    struct Cursor {
        QString epoch;
        quint64 seq = 0;
        bool operator==(const Cursor&) const = default;
    };

    explicit DeliveryTracker(int maxHeld = 1000);

    void setMaxHeld(int maxHeld) { m_maxHeld = maxHeld; }

    //! The server says `room` is at (epoch, lastSeq) (a `joined`). First anchor: delivery
    //! starts after lastSeq. Same epoch again (a rejoin): the own cursor is kept, it is the
    //! resume point. Another epoch: the stream was reset; delivery restarts after lastSeq.
    Outcome anchor(const QString& room, const QString& epoch, quint64 lastSeq);

    //! The server's stream of `room` is behind the cursor although the epoch is the same (a
    //! `recovered` with cursor_ahead: it lost messages that were delivered here). Delivery
    //! restarts after lastSeq, as after a new epoch: what comes next is new even where its
    //! seqs repeat delivered ones. Outcome::streamReset is set.
    Outcome restart(const QString& room, const QString& epoch, quint64 lastSeq);

    //! A message from the server for a room being followed.
    Outcome accept(const Message& message);

    //! The server cannot provide anything up to `seq` (a `recovered: false` range, or a history
    //! page that ends early): stop waiting for it. Held messages up to `seq` are delivered; the holes
    //! between them are reported in Outcome::gaps.
    Outcome skipTo(const QString& room, quint64 seq);

    //! The last delivered position of `room`, if anchored.
    std::optional<Cursor> cursor(const QString& room) const;
    //! Every anchored room's cursor.
    QHash<QString, Cursor> cursors() const;
    bool isAnchored(const QString& room) const;
    //! The hole that held messages of `room` wait for, if any.
    std::optional<Range> missing(const QString& room) const;
    //! Messages held for `room`.
    int heldCount(const QString& room) const;

    //! Stops following `room` (after leave); a later join starts afresh.
    void forget(const QString& room);

private:
    struct RoomState {
        bool anchored = false;
        QString epoch;
        quint64 lastSeq = 0;
        std::map<quint64, Message> held;
    };

    void drain(RoomState& state, Outcome& outcome);
    void giveUpIfFull(RoomState& state, Outcome& outcome);

    QHash<QString, RoomState> m_rooms;
    int m_maxHeld;
};

} // namespace parley
