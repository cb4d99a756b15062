// A chat message as delivered by the Parley SDK.
#pragma once

#include <QDateTime>
#include <QString>

namespace parley {

//! One chat message, as stored by the server. Within a room, `seq` orders messages totally:
//! every member sees 1, 2, 3, ... with no hole, and the SDK delivers each (room, seq) once.
struct Message {
    QString room; //!< The room the message was posted to.
    //! The room's stream id. It changes only if the room's history was lost or reset; a seq is
    //! meaningful only together with its epoch.
    QString epoch;
    quint64 seq = 0; //!< Position in the room's stream, starting at 1.
    QString id; //!< Server-assigned message id, unique.
    QString sender; //!< User name of the author.
    //! The id the sender's Client::send() returned; lets a sender match its own messages.
    QString clientId;
    QString body; //!< The text, as sent.
    QDateTime timestamp; //!< When the server stored the message (UTC, millisecond precision).

    //! Field-wise equality. (Spelled out: public headers stay C++17 for embedders.)
    friend bool operator==(const Message& a, const Message& b)
    {
        return a.room == b.room && a.epoch == b.epoch && a.seq == b.seq && a.id == b.id
            && a.sender == b.sender && a.clientId == b.clientId && a.body == b.body
            && a.timestamp == b.timestamp;
    }
    //! Field-wise inequality.
    friend bool operator!=(const Message& a, const Message& b) { return !(a == b); }
};

} // namespace parley
