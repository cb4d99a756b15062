// Which page of a room's history Client::fetchHistory() asks for.
#pragma once

#include <QtGlobal>

#include <optional>

namespace parley {

//! Selects one page of a room's history. Pages always come back in ascending seq order.
struct HistoryQuery {
    //! When set: the newest `limit` messages with seq < beforeSeq (page backwards).
    std::optional<quint64> beforeSeq;
    //! When set: the oldest `limit` messages with seq > afterSeq (page forwards).
    std::optional<quint64> afterSeq;
    //! At most this many messages; the SDK clamps it to the server's announced maximum.
    int limit = 50;

    //! The newest `limit` messages of the room.
    static HistoryQuery latest(int limit = 50) { return HistoryQuery { {}, {}, limit }; }
    //! The newest `limit` messages older than `seq`.
    static HistoryQuery before(quint64 seq, int limit = 50) { return HistoryQuery { seq, {}, limit }; }
    //! The oldest `limit` messages newer than `seq`.
    static HistoryQuery after(quint64 seq, int limit = 50) { return HistoryQuery { {}, seq, limit }; }
};

} // namespace parley
