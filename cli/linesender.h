// LineSender: messages from standard input (or the command line) handed to Client::send() no
// faster than the outbox drains, each with a client id a rerun can reproduce.
#pragma once

#include <QHash>
#include <QObject>
#include <QString>
#include <optional>
#include <parley/client.h>

namespace parley::cli {

class StdinReader;

//! Sends messages to one room through `client`, in input order, each exactly once.
//!
//! Flow control: the client's outbox holds at most ClientOptions::maxOutboxMessages messages
//! and maxOutboxBytes of bodies, and refuses more (outbox_full). The sender keeps within both:
//! when the next line does not fit, it holds that line and pauses the reader until acks (or
//! failures) make room. So any amount of input goes through with bounded memory, and a
//! producer writing into the pipe waits for the server.
//!
//! Admission: a message is handed to the client only once the previous one was admitted to the
//! outbox (its Queued state) or refused. The client refuses a message it knows the server would
//! reject (a body over the server's limit) on the event-loop turn after send(), so when a
//! caller stops at the first failure, no later line has been handed over behind it.
//!
//! Client ids: with an idempotency key, message n (line n of the input, blank lines counted;
//! sendText() is message 1) gets the client id "KEY:n". The server answers a message resent
//! with the same id (same user, same room, within its dedupe window) with the original ack, so
//! running a failed command again with the same key and input stores nothing twice. Without a
//! key the client makes up a UUID per message.
class LineSender : public QObject {
    Q_OBJECT

public:
    LineSender(parley::Client& client, const QString& room, const QString& idempotencyKey,
        QObject* parent = nullptr);

    //! Sends `text` as message 1; that is the whole input.
    void sendText(const QString& text);
    //! Reads standard input, one message per line (blank lines are skipped), to its end.
    void readStandardInput();
    //! Takes no more input and sends nothing more; messages already handed to the client stay,
    //! and done() follows once they are acked or failed.
    void stop();

    //! The input ended and every message handed to the client was acked or failed.
    bool isDone() const;
    //! Messages handed to the client, not yet acked or failed.
    int pendingCount() const { return int(m_pending.size()); }
    //! The client id of message `number` under the idempotency key (empty without a key).
    static QString clientIdFor(const QString& idempotencyKey, qint64 number);

Q_SIGNALS:
    //! Message `number` of the input was handed to the client under `clientId`.
    void posted(const QString& clientId, qint64 number);
    //! Message `number` of the input was stored as `seq`, under `clientId`.
    void acked(const QString& clientId, qint64 number, quint64 seq);
    //! Message `number` will not be stored: `error` says why.
    void failed(const QString& clientId, qint64 number, const parley::Error& error);
    //! isDone() became true (emitted once).
    void done();

private:
    struct Line {
        qint64 number = 0;
        QString text;
        qint64 bytes = 0;
    };

    void offer(qint64 number, const QString& text);
    bool fits(qint64 bytes) const;
    void post(const Line& line);
    //! Message `clientId` left the outbox (acked or failed): true when it was one of ours.
    bool settle(const QString& clientId, qint64* number);
    //! Hands over the held line, or reads on, when the outbox can take it.
    void advance();
    void inputEnded();
    void checkDone();

    parley::Client& m_client;
    const QString m_room;
    const QString m_idempotencyKey;
    StdinReader* m_reader = nullptr;
    struct Pending {
        qint64 number = 0;
        qint64 bytes = 0;
    };
    QHash<QString, Pending> m_pending;
    qint64 m_pendingBytes = 0;
    std::optional<Line> m_held; // read, waiting for room in the outbox
    QString m_admitting; // handed to the client, not yet Queued (or failed)
    bool m_inputEnded = false;
    bool m_stopped = false;
    bool m_doneEmitted = false;
};

} // namespace parley::cli
