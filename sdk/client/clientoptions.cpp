#include <parley/clientoptions.h>

#include "protocol/codec.h"
#include "transport/transportfactory.h"
#include "wireconversion.h"

namespace parley {

std::optional<Error> ClientOptions::validate() const
{
    const auto invalid = [](const QString& why) {
        return std::optional<Error>(makeError(ErrorCode::InvalidOptions, why));
    };
    if (endpoints.isEmpty()) {
        return invalid(QStringLiteral("no server endpoint given"));
    }
    for (const QUrl& url : endpoints) {
        if (!isSupportedEndpoint(url)) {
            return invalid(QStringLiteral("endpoint '%1' is not a ws:// or wss:// URL with a host")
                               .arg(url.toString()));
        }
    }
    if (!protocol::isValidUserName(toWire(user))) {
        return invalid(QStringLiteral("user name '%1' is not 1..64 characters of [A-Za-z0-9._-]")
                           .arg(user));
    }
    if (requestTimeout.count() <= 0) {
        return invalid(QStringLiteral("requestTimeout must be positive"));
    }
    if (messageTimeout.count() < 0) {
        return invalid(QStringLiteral("messageTimeout must not be negative"));
    }
    if (maxOutboxMessages <= 0 || maxOutboxBytes <= 0) {
        return invalid(QStringLiteral("the outbox bounds must be positive"));
    }
    if (maxHeldMessages <= 0) {
        return invalid(QStringLiteral("maxHeldMessages must be positive"));
    }
    if (reconnect.initialDelay.count() <= 0 || reconnect.factor < 1.0
        || reconnect.maxDelay < reconnect.initialDelay || reconnect.healthyAfter.count() < 0) {
        return invalid(QStringLiteral(
            "reconnect needs initialDelay > 0, factor >= 1, maxDelay >= initialDelay, healthyAfter >= 0"));
    }
    if (transportFailuresBeforeFallback < 1) {
        return invalid(QStringLiteral("transportFailuresBeforeFallback must be at least 1"));
    }
    if (upgradeProbeDelay.count() <= 0 || upgradeProbeMaxDelay < upgradeProbeDelay) {
        return invalid(
            QStringLiteral("upgrade probes need upgradeProbeDelay > 0 and upgradeProbeMaxDelay >= upgradeProbeDelay"));
    }
    return std::nullopt;
}

QString transportKindName(TransportKind kind)
{
    switch (kind) {
    case TransportKind::WebSocket:
        return QStringLiteral("websocket");
    case TransportKind::Sse:
        return QStringLiteral("sse");
    case TransportKind::LongPoll:
        return QStringLiteral("long-poll");
    case TransportKind::Auto:
        break;
    }
    return QStringLiteral("auto");
}

ClientOptions ClientOptions::forServer(const QUrl& endpoint, const QString& user)
{
    ClientOptions options;
    options.endpoints = { endpoint };
    options.user = user;
    return options;
}

} // namespace parley
