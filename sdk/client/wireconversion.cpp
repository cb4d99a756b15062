#include "wireconversion.h"

#include "protocol/codec.h"

#include <QTimeZone>

namespace parley {

QString fromWire(const std::string& text)
{
    return QString::fromUtf8(text.data(), qsizetype(text.size()));
}

std::string toWire(const QString& text)
{
    return text.toStdString();
}

Message fromWire(const protocol::Message& message)
{
    Message m;
    m.room = fromWire(message.room);
    m.epoch = fromWire(message.epoch);
    m.seq = message.seq;
    m.id = fromWire(message.msgId);
    m.sender = fromWire(message.sender);
    m.clientId = fromWire(message.clientId);
    m.body = fromWire(message.body);
    m.timestamp = QDateTime::fromMSecsSinceEpoch(message.ts, QTimeZone::utc());
    return m;
}

ErrorCode fromWire(protocol::ErrorCode code)
{
    using W = protocol::ErrorCode;
    switch (code) {
    case W::BadJson:
        return ErrorCode::BadJson;
    case W::BadFrame:
        return ErrorCode::BadFrame;
    case W::UnknownType:
        return ErrorCode::UnknownType;
    case W::FrameTooLarge:
        return ErrorCode::FrameTooLarge;
    case W::BodyTooLarge:
        return ErrorCode::BodyTooLarge;
    case W::EmptyBody:
        return ErrorCode::EmptyBody;
    case W::BadRoom:
        return ErrorCode::BadRoom;
    case W::NotJoined:
        return ErrorCode::NotJoined;
    case W::TooManyRooms:
        return ErrorCode::TooManyRooms;
    case W::HelloRequired:
        return ErrorCode::HelloRequired;
    case W::AlreadyWelcomed:
        return ErrorCode::AlreadyWelcomed;
    case W::Unauthorized:
        return ErrorCode::Unauthorized;
    case W::RateLimited:
        return ErrorCode::RateLimited;
    case W::Overloaded:
        return ErrorCode::Overloaded;
    case W::Unavailable:
        return ErrorCode::Unavailable;
    case W::Internal:
        return ErrorCode::Internal;
    case W::UserOffline:
        return ErrorCode::UserOffline;
    }
    return ErrorCode::Internal;
}

Error fromWire(const protocol::Error& error)
{
    Error e;
    e.code = fromWire(error.code);
    e.message = fromWire(error.message);
    e.retryable = protocol::isRetryable(error.code);
    e.requestId = fromWire(error.id);
    return e;
}

Error makeError(ErrorCode code, const QString& message, const QString& requestId)
{
    bool retryable = false;
    switch (code) {
    case ErrorCode::RateLimited:
    case ErrorCode::Overloaded:
    case ErrorCode::Unavailable:
    case ErrorCode::Internal:
    case ErrorCode::ConnectionFailed:
    case ErrorCode::ConnectionLost:
    case ErrorCode::Timeout:
    case ErrorCode::OutboxFull:
        retryable = true;
        break;
    default:
        break;
    }
    return Error { code, message, retryable, requestId };
}

} // namespace parley
