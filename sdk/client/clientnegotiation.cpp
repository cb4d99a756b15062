// Client::Private: transport negotiation — which kind each attempt opens, falling back after
// failed opens, remembering the kind that worked per server, and probing the preferred kind in
// the background to upgrade back (see client_p.h and transport/transportnegotiator.h).
#include "client_p.h"
#include "transport/transport.h"
#include "transport/transportfactory.h"
#include "wireconversion.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QMutex>
#include <QRandomGenerator>
#include <QSaveFile>
#include <QThreadPool>

namespace parley {

Q_LOGGING_CATEGORY(lcNegotiation, "parley.transport.negotiation", QtWarningMsg)

namespace {

// Clients of one process may share a memory file: their read-merge-write cycles take turns.
QMutex& memoryFileMutex()
{
    static QMutex mutex;
    return mutex;
}

QJsonObject readMemory(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    // A few hundred bytes in practice; a bound keeps a wrong path from reading a huge file.
    return QJsonDocument::fromJson(file.read(64 * 1024)).object();
}

} // namespace

void Client::Private::startNegotiation()
{
    m_negotiating = options.transport == TransportKind::Auto;
    m_negotiator = TransportNegotiator(
        m_negotiating ? options.transportOrder : QList<TransportKind> { options.transport },
        options.transportFailuresBeforeFallback, options.upgradeProbeDelay,
        options.upgradeProbeMaxDelay);
    // Read on the caller's thread: one small local file, once per connectToServer(). Writes,
    // which happen while the client runs, go to a worker thread (rememberTransport()).
    m_remembered = m_negotiating ? loadRememberedTransport() : std::nullopt;
    m_negotiator.start(m_remembered);
}

TransportKind Client::Private::nextTransportKind() const
{
    return m_negotiator.current();
}

void Client::Private::setTransportKind(TransportKind kind)
{
    if (m_transportKind == kind) {
        return;
    }
    m_transportKind = kind;
    post([this, kind] { Q_EMIT q->transportChanged(kind); });
}

void Client::Private::noteFrame()
{
    if (m_transportProven) {
        return;
    }
    m_transportProven = true;
    m_negotiator.openSucceeded();
    if (!m_negotiating) {
        return;
    }
    if (m_remembered != m_transportKind) {
        rememberTransport(m_transportKind);
    }
    if (m_negotiator.onFallback()) {
        scheduleUpgradeProbe();
    }
}

void Client::Private::noteConnectionEnded()
{
    const bool unreachable = std::exchange(m_serverUnreachable, false);
    // A server that is down (connection refused) fails every kind alike: moving on would only
    // land the returning clients on a fallback, and then upgrade them all a second time. A
    // server that refused for capacity (4007, Retry-After) reached us fine over this kind.
    const bool refusedForCapacity = m_serverRetryAfter.count() > 0;
    if (m_transportProven || !m_negotiating || unreachable || refusedForCapacity) {
        return;
    }
    const TransportKind failed = m_negotiator.current();
    if (m_negotiator.openFailed()) {
        qCInfo(lcNegotiation) << "transport" << transportKindName(failed) << "failed to open"
                              << options.transportFailuresBeforeFallback
                              << "times; next:" << transportKindName(m_negotiator.current());
    }
}

// ---------------------------------------------------------------------------------------------
// Upgrade back: probe the preferred kind while connected on a fallback.

void Client::Private::scheduleUpgradeProbe()
{
    if (m_probe || !m_negotiating || !m_negotiator.onFallback()) {
        return;
    }
    // Equal jitter (half the delay fixed, half random): clients that fell back together (one
    // proxy for a whole office) do not probe, and upgrade, in lock-step.
    const qint64 delay = m_negotiator.nextProbeDelay().count();
    m_probeTimer->start(
        std::chrono::milliseconds(delay / 2 + QRandomGenerator::global()->bounded(delay / 2 + 1)));
}

void Client::Private::onProbeTimer()
{
    if (m_probe) {
        // The probe did not open within its deadline (a black-holed upgrade): give up on it.
        stopUpgradeProbe();
        scheduleUpgradeProbe();
        return;
    }
    if (!welcomed || !m_transport || !m_negotiator.onFallback()) {
        return;
    }
    const QUrl url = options.endpoints.at(m_policy.endpoint(int(options.endpoints.size())));
    m_probe = createTransport(url, m_negotiator.preferred(), options.proxy, q);
    QObject::connect(m_probe, &Transport::opened, q, [this] { switchToProbe(); });
    QObject::connect(m_probe, &Transport::closed, q, [this] {
        // Refused (or dropped before it opened): try again later, further apart.
        if (m_probe) {
            m_probe->deleteLater();
            m_probe = nullptr;
        }
        m_probeTimer->stop();
        scheduleUpgradeProbe();
    });
    m_probeTimer->start(options.requestTimeout);
    m_probe->open(url);
}

void Client::Private::stopUpgradeProbe()
{
    m_probeTimer->stop();
    if (m_probe) {
        Transport* probe = std::exchange(m_probe, nullptr);
        QObject::disconnect(probe, nullptr, q, nullptr);
        QObject::connect(probe, &Transport::closed, probe, &QObject::deleteLater);
        probe->close(1000, QString());
    }
}

void Client::Private::switchToProbe()
{
    Transport* probe = std::exchange(m_probe, nullptr);
    m_probeTimer->stop();
    QObject::disconnect(probe, nullptr, q, nullptr);
    if (!welcomed || !m_transport) {
        // The fallback connection went away meanwhile; the reconnect takes its own course.
        QObject::connect(probe, &Transport::closed, probe, &QObject::deleteLater);
        probe->close(1000, QString());
        return;
    }
    qCInfo(lcNegotiation) << "upgrading from" << transportKindName(m_transportKind) << "to"
                          << transportKindName(m_negotiator.preferred());
    // The switch is a reconnect that resumes, without the wait: the old session is ended (an
    // HTTP transport deletes it on the server), what it had sent and not had acked is queued
    // again (the server drops what it already stored by client id), and the new hello carries
    // the resume cursors, so the server replays what the old downstream had not delivered.
    retireTransport();
    const QStringList leaving = resetConnection(
        makeError(ErrorCode::ConnectionLost, QStringLiteral("switching transport")), true);
    for (const QString& room : leaving) {
        Q_EMIT q->left(room);
    }
    m_negotiator.upgraded();
    beginConnection(probe, m_negotiator.current());
    onTransportOpened();
}

// ---------------------------------------------------------------------------------------------
// Memory: the last kind that worked, per server.

QString Client::Private::memoryKey() const
{
    const QUrl url = options.endpoints.at(m_policy.endpoint(int(options.endpoints.size())));
    const bool secure = url.scheme() == QLatin1String("wss");
    return url.host() + QLatin1Char(':') + QString::number(url.port(secure ? 443 : 80));
}

std::optional<TransportKind> Client::Private::loadRememberedTransport() const
{
    if (options.transportMemoryPath.isEmpty()) {
        return std::nullopt;
    }
    QMutexLocker lock(&memoryFileMutex());
    return transportKindFromName(
        readMemory(options.transportMemoryPath).value(memoryKey()).toString());
}

void Client::Private::rememberTransport(TransportKind kind)
{
    m_remembered = kind;
    if (options.transportMemoryPath.isEmpty()) {
        return;
    }
    if (!m_memoryWriter) {
        m_memoryWriter = std::make_unique<QThreadPool>();
        m_memoryWriter->setMaxThreadCount(1); // one writer: the last write lands last
    }
    m_memoryWriter->start(
        [path = options.transportMemoryPath, key = memoryKey(), name = transportKindName(kind)] {
            QMutexLocker lock(&memoryFileMutex());
            QJsonObject memory = readMemory(path);
            memory.insert(key, name);
            QSaveFile file(path);
            if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(memory).toJson()) < 0
                || !file.commit()) {
                qCWarning(lcNegotiation) << "cannot write the transport memory" << path;
            }
        });
}

} // namespace parley
