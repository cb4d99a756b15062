#include "linesender.h"

#include "stdinreader.h"

namespace parley::cli {

LineSender::LineSender(
    parley::Client& client, const QString& room, const QString& idempotencyKey, QObject* parent)
    : QObject(parent)
    , m_client(client)
    , m_room(room)
    , m_idempotencyKey(idempotencyKey)
{
    connect(&m_client, &Client::messageStateChanged, this,
        [this](const QString& clientId, MessageState state) {
            if (state == MessageState::Queued && clientId == m_admitting) {
                m_admitting.clear();
                advance();
            }
        });
    connect(&m_client, &Client::messageAcked, this,
        [this](const QString& clientId, const QString&, quint64 seq) {
            qint64 number = 0;
            if (settle(clientId, &number)) {
                Q_EMIT acked(clientId, number, seq);
                advance();
                checkDone();
            }
        });
    connect(&m_client, &Client::messageFailed, this,
        [this](const QString& clientId, const parley::Error& error) {
            qint64 number = 0;
            if (settle(clientId, &number)) {
                Q_EMIT failed(clientId, number, error);
                advance();
                checkDone();
            }
        });
}

QString LineSender::clientIdFor(const QString& idempotencyKey, qint64 number)
{
    // ':' appears in no UUID, so these ids never meet the ones the SDK makes up.
    return idempotencyKey.isEmpty() ? QString()
                                    : idempotencyKey + QLatin1Char(':') + QString::number(number);
}

void LineSender::sendText(const QString& text)
{
    offer(1, text);
    inputEnded();
}

void LineSender::readStandardInput()
{
    m_reader = new StdinReader(this);
    connect(m_reader, &StdinReader::lineRead, this, &LineSender::offer);
    connect(m_reader, &StdinReader::finished, this, &LineSender::inputEnded);
    m_reader->start();
}

void LineSender::stop()
{
    m_stopped = true;
    m_held.reset();
    if (m_reader) {
        m_reader->pause();
    }
    checkDone();
}

bool LineSender::isDone() const
{
    return (m_inputEnded || m_stopped) && !m_held && m_pending.isEmpty();
}

void LineSender::offer(qint64 number, const QString& text)
{
    if (m_stopped || text.trimmed().isEmpty()) {
        return;
    }
    Line line { number, text, qint64(text.toUtf8().size()) };
    if (!m_admitting.isEmpty() || !fits(line.bytes)) {
        m_held = std::move(line);
        if (m_reader) {
            m_reader->pause();
        }
        return;
    }
    post(line);
}

bool LineSender::fits(qint64 bytes) const
{
    // An empty outbox takes anything: a body over the byte bound then fails on its own merits
    // (body_too_large) instead of waiting for room that never comes.
    const ClientOptions& options = m_client.options();
    return m_pending.isEmpty()
        || (m_pending.size() < options.maxOutboxMessages
            && m_pendingBytes + bytes <= options.maxOutboxBytes);
}

void LineSender::post(const Line& line)
{
    const QString id = m_idempotencyKey.isEmpty()
        ? m_client.send(m_room, line.text)
        : m_client.send(m_room, line.text, clientIdFor(m_idempotencyKey, line.number));
    m_pending.insert(id, Pending { line.number, line.bytes });
    m_pendingBytes += line.bytes;
    m_admitting = id;
    if (m_reader) {
        m_reader->pause(); // the next line waits for this one's admission
    }
    Q_EMIT posted(id, line.number);
}

bool LineSender::settle(const QString& clientId, qint64* number)
{
    const auto it = m_pending.constFind(clientId);
    if (it == m_pending.constEnd()) {
        return false;
    }
    *number = it->number;
    m_pendingBytes -= it->bytes;
    m_pending.erase(it);
    if (clientId == m_admitting) {
        m_admitting.clear(); // refused before it was queued
    }
    return true;
}

void LineSender::advance()
{
    if (m_stopped || !m_admitting.isEmpty()) {
        return;
    }
    if (m_held) {
        if (fits(m_held->bytes)) {
            post(*std::exchange(m_held, std::nullopt));
        }
        return;
    }
    if (m_reader) {
        m_reader->resume();
    }
}

void LineSender::inputEnded()
{
    m_inputEnded = true;
    checkDone();
}

void LineSender::checkDone()
{
    if (!m_doneEmitted && isDone()) {
        m_doneEmitted = true;
        Q_EMIT done();
    }
}

} // namespace parley::cli
