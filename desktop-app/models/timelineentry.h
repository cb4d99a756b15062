// One row of a room's timeline as the desktop app shows it.
#pragma once

#include <QDateTime>
#include <QString>

namespace parley::desktop {

//! A row of MessageModel: a chat message (stored by the server or still on its way), or a marker
//! for messages the server could no longer deliver.
struct TimelineEntry {
    enum class Kind {
        Message, //!< A chat message.
        Gap, //!< Messages gapFrom..gapTo were lost; shown as a notice in the timeline.
    };

    //! Where a message stands, mapped from the SDK's outbox: send() → Pending; messageAcked() or
    //! the message coming back from the server → Confirmed; messageFailed() → Failed.
    enum class Delivery {
        Pending,
        Confirmed,
        Failed,
    };

    Kind kind = Kind::Message;
    //! Identifies what this row lays out (its kind and text), for caches that outlive a model or
    //! serve several: unique among all rows of all models of the process, never reused, and
    //! replaced when the text changes. Seqs cannot serve: every room, and every epoch of a room,
    //! numbers its messages from 1; pending messages have none.
    quint64 contentId = 0;
    Delivery delivery = Delivery::Confirmed;
    //! Position in the room's stream; 0 while the server has not stored the message yet.
    quint64 seq = 0;
    QString messageId;
    //! The id Client::send() returned (own messages), empty for others' messages.
    QString clientId;
    QString sender;
    QString body;
    //! Server time once stored; local send time while pending.
    QDateTime timestamp;
    //! Why the message failed (Failed only), human-readable.
    QString failure;
    quint64 gapFrom = 0;
    quint64 gapTo = 0;

    //! Settled rows (stored messages and gaps) are ordered by this key.
    quint64 sortKey() const { return kind == Kind::Gap ? gapFrom : seq; }
};

} // namespace parley::desktop
