// The delivery state of one sent message.
#pragma once

#include <QString>
#include <parley/export.h>

namespace parley {

//! Where a message passed to Client::send() stands. Reported by Client::messageStateChanged().
//!
//! Queued → Sent → Acked is the normal path; a lost connection takes Sent back to Queued (the
//! message is resent with the same client id, and the server drops the duplicate). Failed is
//! final unless the application calls Client::retry() (back to Queued) or Client::discard().
enum class MessageState {
    Queued, //!< In the outbox, waiting for a connection, the room's join or a retry time.
    Sent, //!< Written to the server; waiting for its ack.
    Acked, //!< Stored by the server (final).
    Failed, //!< Will not be stored unless retried: a terminal error or the message deadline.
};

//! A stable lowercase name for a state ("queued", "sent", "acked", "failed").
PARLEY_SDK_EXPORT QString messageStateName(MessageState state);

} // namespace parley
