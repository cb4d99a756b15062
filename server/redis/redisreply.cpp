#include "redisreply.h"

#include <QStringList>
#include <utility>

namespace parley::server {

RedisReply RedisReply::fromStatus(QByteArray status)
{
    RedisReply reply;
    reply.m_type = Type::Status;
    reply.m_bytes = std::move(status);
    return reply;
}

RedisReply RedisReply::fromError(QByteArray message, ErrorKind kind)
{
    RedisReply reply;
    reply.m_type = Type::Error;
    reply.m_errorKind = kind;
    reply.m_bytes = std::move(message);
    return reply;
}

RedisReply RedisReply::fromInteger(qint64 value)
{
    RedisReply reply;
    reply.m_type = Type::Integer;
    reply.m_integer = value;
    return reply;
}

RedisReply RedisReply::fromString(QByteArray value)
{
    RedisReply reply;
    reply.m_type = Type::String;
    reply.m_bytes = std::move(value);
    return reply;
}

RedisReply RedisReply::fromArray(std::vector<RedisReply> elements)
{
    RedisReply reply;
    reply.m_type = Type::Array;
    reply.m_elements = std::move(elements);
    return reply;
}

bool RedisReply::wasNotSent() const
{
    if (m_type != Type::Error) {
        return false;
    }
    switch (m_errorKind) {
    case ErrorKind::Unavailable:
    case ErrorKind::Overloaded:
    case ErrorKind::Invalid:
        return true;
    case ErrorKind::Server:
    case ErrorKind::Timeout:
    case ErrorKind::ConnectionLost:
    case ErrorKind::Closed:
        return false;
    }
    return false;
}

QByteArray RedisReply::errorCode() const
{
    if (m_type != Type::Error || m_errorKind != ErrorKind::Server) {
        return {};
    }
    const qsizetype space = m_bytes.indexOf(' ');
    return space < 0 ? m_bytes : m_bytes.left(space);
}

QString RedisReply::typeName(Type type)
{
    switch (type) {
    case Type::Nil:
        return QStringLiteral("Nil");
    case Type::Status:
        return QStringLiteral("Status");
    case Type::Error:
        return QStringLiteral("Error");
    case Type::Integer:
        return QStringLiteral("Integer");
    case Type::String:
        return QStringLiteral("String");
    case Type::Array:
        return QStringLiteral("Array");
    }
    return QStringLiteral("?");
}

QString RedisReply::errorKindName(ErrorKind kind)
{
    switch (kind) {
    case ErrorKind::Server:
        return QStringLiteral("server");
    case ErrorKind::Unavailable:
        return QStringLiteral("unavailable");
    case ErrorKind::Overloaded:
        return QStringLiteral("overloaded");
    case ErrorKind::Invalid:
        return QStringLiteral("invalid");
    case ErrorKind::Timeout:
        return QStringLiteral("timeout");
    case ErrorKind::ConnectionLost:
        return QStringLiteral("connection_lost");
    case ErrorKind::Closed:
        return QStringLiteral("closed");
    }
    return QStringLiteral("?");
}

QString RedisReply::toString() const
{
    switch (m_type) {
    case Type::Nil:
        return QStringLiteral("(nil)");
    case Type::Status:
        return QString::fromUtf8(m_bytes);
    case Type::Error:
        return QStringLiteral("(error %1) %2")
            .arg(errorKindName(m_errorKind), QString::fromUtf8(m_bytes));
    case Type::Integer:
        return QStringLiteral("(integer) %1").arg(m_integer);
    case Type::String:
        return QLatin1Char('"')
            + QString::fromUtf8(m_bytes.toPercentEncoding(" !#$&'()*+,/:;=?@[]{}<>|^~`\\"))
            + QLatin1Char('"');
    case Type::Array: {
        QStringList parts;
        parts.reserve(qsizetype(m_elements.size()));
        for (const RedisReply& element : m_elements) {
            parts.append(element.toString());
        }
        return QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
    }
    }
    return {};
}

bool RedisReply::operator==(const RedisReply& other) const
{
    if (m_type != other.m_type) {
        return false;
    }
    switch (m_type) {
    case Type::Nil:
        return true;
    case Type::Integer:
        return m_integer == other.m_integer;
    case Type::Error:
        return m_errorKind == other.m_errorKind && m_bytes == other.m_bytes;
    case Type::Status:
    case Type::String:
        return m_bytes == other.m_bytes;
    case Type::Array:
        return m_elements == other.m_elements;
    }
    return false;
}

} // namespace parley::server
