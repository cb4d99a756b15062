// A Redis reply as an owned value: what RedisClient hands to command callbacks.
//
// No hiredis type appears here: the adapter converts hiredis's reply tree into this value before
// any Parley code sees it, so the rest of the server never depends on hiredis headers.
//
// Client-side failures (not connected, too many commands in flight, timeout, link lost) are
// delivered as Error replies too, with an ErrorKind other than Server, so that every command
// callback handles exactly one value and every failure is visible in the same place.
#pragma once

#include <QByteArray>
#include <QString>
#include <QtGlobal>
#include <vector>

namespace parley::server {

class RedisReply {
public:
    enum class Type { Nil, Status, Error, Integer, String, Array };

    //! Why an Error reply is an error. Only Server comes from Redis; the others are produced by
    //! the client and say whether the command may have run.
    enum class ErrorKind {
        Server, //!< Redis answered "-CODE message": the command was received and rejected/failed.
        Unavailable, //!< Not connected: the command was NOT sent. Retry later.
        Overloaded, //!< Too many commands in flight: the command was NOT sent. Retry later.
        Invalid, //!< Empty argument list: the command was NOT sent.
        Timeout, //!< No reply in time; the link was reset. The command may or may not have run.
        ConnectionLost, //!< The link broke before the reply. The command may or may not have run.
        Closed, //!< The client was stopped before the reply. The command may or may not have run.
    };

    //! A Nil reply.
    RedisReply() = default;

    static RedisReply nil() { return {}; }
    static RedisReply fromStatus(QByteArray status);
    static RedisReply fromError(QByteArray message, ErrorKind kind = ErrorKind::Server);
    static RedisReply fromInteger(qint64 value);
    static RedisReply fromString(QByteArray value);
    static RedisReply fromArray(std::vector<RedisReply> elements);

    Type type() const { return m_type; }
    bool isNil() const { return m_type == Type::Nil; }
    bool isStatus() const { return m_type == Type::Status; }
    bool isError() const { return m_type == Type::Error; }
    bool isInteger() const { return m_type == Type::Integer; }
    bool isString() const { return m_type == Type::String; }
    bool isArray() const { return m_type == Type::Array; }

    //! The value of an Integer reply; 0 for every other type.
    qint64 integer() const { return m_integer; }
    //! The bytes of a String reply, the text of a Status or Error reply; empty otherwise.
    const QByteArray& bytes() const { return m_bytes; }
    //! The elements of an Array reply; empty otherwise.
    const std::vector<RedisReply>& elements() const { return m_elements; }

    //! Meaningful for Error replies only (Server for every other type).
    ErrorKind errorKind() const { return m_errorKind; }
    //! True for client-side failures where the command certainly did not reach Redis
    //! (Unavailable, Overloaded, Invalid): retrying cannot run it twice.
    bool wasNotSent() const;
    //! The first word of a server error ("ERR", "NOSCRIPT", "WRONGTYPE", ...); empty otherwise.
    QByteArray errorCode() const;
    //! "Status" / "String" / ... : for logs and test failure messages.
    static QString typeName(Type type);
    static QString errorKindName(ErrorKind kind);
    //! A compact human-readable rendering (strings quoted, arrays bracketed), for logs and tests.
    QString toString() const;

    bool operator==(const RedisReply& other) const;
    bool operator!=(const RedisReply& other) const { return !(*this == other); }

private:
    Type m_type = Type::Nil;
    ErrorKind m_errorKind = ErrorKind::Server;
    qint64 m_integer = 0;
    QByteArray m_bytes;
    std::vector<RedisReply> m_elements;
};

} // namespace parley::server
