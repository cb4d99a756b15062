#include <parley/connectionstate.h>
#include <parley/error.h>

namespace parley {

QString errorCodeName(ErrorCode code)
{
    switch (code) {
    case ErrorCode::BadJson:
        return QStringLiteral("bad_json");
    case ErrorCode::BadFrame:
        return QStringLiteral("bad_frame");
    case ErrorCode::UnknownType:
        return QStringLiteral("unknown_type");
    case ErrorCode::FrameTooLarge:
        return QStringLiteral("frame_too_large");
    case ErrorCode::BodyTooLarge:
        return QStringLiteral("body_too_large");
    case ErrorCode::EmptyBody:
        return QStringLiteral("empty_body");
    case ErrorCode::BadRoom:
        return QStringLiteral("bad_room");
    case ErrorCode::NotJoined:
        return QStringLiteral("not_joined");
    case ErrorCode::TooManyRooms:
        return QStringLiteral("too_many_rooms");
    case ErrorCode::HelloRequired:
        return QStringLiteral("hello_required");
    case ErrorCode::AlreadyWelcomed:
        return QStringLiteral("already_welcomed");
    case ErrorCode::Unauthorized:
        return QStringLiteral("unauthorized");
    case ErrorCode::RateLimited:
        return QStringLiteral("rate_limited");
    case ErrorCode::Overloaded:
        return QStringLiteral("overloaded");
    case ErrorCode::Unavailable:
        return QStringLiteral("unavailable");
    case ErrorCode::Internal:
        return QStringLiteral("internal");
    case ErrorCode::UserOffline:
        return QStringLiteral("user_offline");
    case ErrorCode::InvalidArgument:
        return QStringLiteral("invalid_argument");
    case ErrorCode::InvalidOptions:
        return QStringLiteral("invalid_options");
    case ErrorCode::ConnectionFailed:
        return QStringLiteral("connection_failed");
    case ErrorCode::ConnectionLost:
        return QStringLiteral("connection_lost");
    case ErrorCode::Timeout:
        return QStringLiteral("timeout");
    case ErrorCode::OutboxFull:
        return QStringLiteral("outbox_full");
    case ErrorCode::ProtocolError:
        return QStringLiteral("protocol_error");
    case ErrorCode::Cancelled:
        return QStringLiteral("cancelled");
    }
    return QStringLiteral("unknown");
}

QString connectionStateName(ConnectionState state)
{
    switch (state) {
    case ConnectionState::Disconnected:
        return QStringLiteral("disconnected");
    case ConnectionState::Connecting:
        return QStringLiteral("connecting");
    case ConnectionState::Connected:
        return QStringLiteral("connected");
    case ConnectionState::Reconnecting:
        return QStringLiteral("reconnecting");
    case ConnectionState::Closed:
        return QStringLiteral("closed");
    }
    return QStringLiteral("unknown");
}

} // namespace parley
