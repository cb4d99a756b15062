// Errors reported by the Parley SDK.
#pragma once

#include <parley/export.h>

#include <QString>

namespace parley {

//! What went wrong. The first group mirrors the server's stable wire error codes (see
//! docs/protocol.md); the second group is detected by the SDK itself.
enum class ErrorCode {
    // Reported by the server.
    BadJson, //!< The server could not parse a frame as JSON (an SDK bug).
    BadFrame, //!< A field was missing or out of range.
    UnknownType, //!< The server did not know the frame type (version mismatch).
    FrameTooLarge, //!< The frame exceeded the server's frame size limit.
    BodyTooLarge, //!< The message body exceeded the server's body size limit.
    EmptyBody, //!< The message body was empty.
    BadRoom, //!< The room name is empty, too long or has forbidden characters.
    NotJoined, //!< The room has not been joined (or was left).
    TooManyRooms, //!< The session already joined as many rooms as the server allows.
    HelloRequired, //!< A request before the handshake finished (an SDK bug).
    AlreadyWelcomed, //!< A second handshake on one session (an SDK bug).
    Unauthorized, //!< The user name or token was rejected. Terminal: the client does not retry.
    RateLimited, //!< Too many frames per second; retried later.
    Overloaded, //!< The server sheds load; retried later.
    Unavailable, //!< The server's storage or cluster link is down; retried later.
    Internal, //!< An unexpected failure on the server; retried later.

    // Detected by the SDK.
    InvalidArgument, //!< A call got an argument that can never succeed (bad room name, ...).
    InvalidOptions, //!< The ClientOptions are incomplete or inconsistent.
    ConnectionFailed, //!< The transport could not be opened (nothing listens, DNS, TLS, ...).
    ConnectionLost, //!< An open connection dropped.
    Timeout, //!< No answer within the configured time.
    OutboxFull, //!< send() was refused because the outbox is at its bound.
    ProtocolError, //!< The server sent something this SDK cannot understand.
    Cancelled, //!< The request was abandoned (disconnectFromServer(), leave()).

    // Reported by the server (added after the SDK-side codes to keep the values stable).
    UserOffline, //!< sendDirect() to a user with no live session. Not retried by the SDK.
};

//! A failure, as a value. Delivered by Client::errorOccurred(), Client::messageFailed() and the
//! other failure signals.
struct Error {
    ErrorCode code = ErrorCode::Internal; //!< What went wrong.
    QString message; //!< Human-readable detail (English), for logs; not for program logic.
    //! True when the same request can succeed later unchanged (the SDK retries these itself
    //! where it can); false when it never will (bad input, rejected credentials).
    bool retryable = false;
    //! The request id the error answers (a fetchHistory() id, ...), empty when none.
    QString requestId;
};

//! The stable snake_case name of a code, e.g. "body_too_large", "connection_failed". Server
//! codes have their wire names.
PARLEY_SDK_EXPORT QString errorCodeName(ErrorCode code);

} // namespace parley
