#include "redisscript.h"

#include <QCryptographicHash>
#include <QPointer>
#include <memory>
#include <utility>

namespace parley::server {

RedisScript::RedisScript(QByteArray source)
    : m_source(std::move(source))
    , m_sha1(QCryptographicHash::hash(m_source, QCryptographicHash::Sha1).toHex())
{
}

void RedisScript::load(RedisClient& client, RedisClient::Callback callback) const
{
    client.command({ QByteArrayLiteral("SCRIPT"), QByteArrayLiteral("LOAD"), m_source },
        [sha1 = m_sha1, callback = std::move(callback)](const RedisReply& reply) {
            if (!callback) {
                return;
            }
            if (reply.isString() && reply.bytes() != sha1) {
                callback(RedisReply::fromError(QByteArrayLiteral("ERR SCRIPT LOAD returned ")
                    + reply.bytes() + " instead of " + sha1));
                return;
            }
            callback(reply);
        });
}

void RedisScript::call(RedisClient& client, QList<QByteArray> keys, QList<QByteArray> args,
    RedisClient::Callback callback) const
{
    QList<QByteArray> evalSha = evalShaArgs(keys, args);
    QPointer<RedisClient> clientGuard(&client);
    client.command(evalSha,
        [clientGuard, evalSha, source = m_source, callback = std::move(callback)](
            const RedisReply& reply) {
            if (!(reply.isError() && reply.errorCode() == "NOSCRIPT") || !clientGuard) {
                if (callback) {
                    callback(reply);
                }
                return;
            }
            // Pipelined: SCRIPT LOAD then EVALSHA on the same connection, so the second sees the
            // script. A compile error of the load is the more useful answer, so it wins.
            auto loadError = std::make_shared<RedisReply>();
            clientGuard->command({ QByteArrayLiteral("SCRIPT"), QByteArrayLiteral("LOAD"), source },
                [loadError](const RedisReply& loaded) {
                    if (loaded.isError()) {
                        *loadError = loaded;
                    }
                });
            clientGuard->command(evalSha, [loadError, callback](const RedisReply& second) {
                if (!callback) {
                    return;
                }
                if (loadError->isError()
                    && loadError->errorKind() == RedisReply::ErrorKind::Server) {
                    callback(*loadError);
                    return;
                }
                callback(second);
            });
        });
}

QList<QByteArray> RedisScript::evalShaArgs(
    const QList<QByteArray>& keys, const QList<QByteArray>& args) const
{
    QList<QByteArray> command;
    command.reserve(3 + keys.size() + args.size());
    command << QByteArrayLiteral("EVALSHA") << m_sha1 << QByteArray::number(keys.size());
    command.append(keys);
    command.append(args);
    return command;
}

} // namespace parley::server
