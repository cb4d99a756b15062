// OutboxJournal: the optional persistent outbox (ClientOptions::outboxPath).
//
// Contract:
// - No disk I/O on the caller's thread: append()/remove() only queue an operation; one worker
//   thread (std::thread, owned here) writes them to an append-only file, and load() reads the file
//   on that thread too. Results come back as queued calls on the thread that owns the journal.
// - Bounded: at most `maxQueued` operations wait for the writer. Past that the queue is replaced
//   by one snapshot of the outbox (which is itself bounded), so memory never grows with a slow
//   disk.
// - Write-ahead: every operation carries a serial; persisted(serial) says that everything up to
//   it reached the file (written and flushed to the OS: it survives an application crash or
//   restart, not a power cut). The Client sends a message only after its record is persisted, so
//   a message the server may have seen is always in the file until its ack removes it.
// - Format: one JSON object per line, {"op":"add","id","room","body"} or {"op":"del","id"}. A torn
//   last line (crash mid-write) is ignored. load() compacts the file to the live records.
#pragma once

#include <QList>
#include <QObject>
#include <QString>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace parley {

class OutboxJournal : public QObject {
    Q_OBJECT

public:
    struct Record {
        QString clientId;
        QString room;
        QString body;
    };

    OutboxJournal(QString path, int maxQueued, QObject* parent = nullptr);
    //! Writes what is queued, then stops the worker (the only wait: at destruction).
    ~OutboxJournal() override;

    //! Reads the file on the worker; loaded() reports the unsent records in their order.
    void load();
    //! Queues an "add"; returns its serial.
    quint64 append(const QString& clientId, const QString& room, const QString& body);
    //! Queues a "del".
    void remove(const QString& clientId);
    //! Operations waiting for the writer (for tests of the bound).
    int queued() const;

Q_SIGNALS:
    void loaded(const QList<parley::OutboxJournal::Record>& records);
    //! Every operation with a serial <= `serial` is in the file.
    void persisted(quint64 serial);
    //! The file could not be read or written; the outbox keeps working in memory.
    void failed(const QString& reason);

private:
    struct Op {
        enum class Kind { Load, Add, Del, Snapshot };
        Kind kind = Kind::Add;
        quint64 serial = 0;
        Record record;
        QList<Record> snapshot;
    };
    void run();
    void enqueue(Op op);
    QList<Record> readFile(QString* error) const;
    bool writeAll(const QList<Record>& records, QString* error) const;

    const QString m_path;
    const int m_maxQueued;
    quint64 m_serial = 0;
    // The owner's view of the live records, in order: the snapshot used when the queue overflows.
    QList<Record> m_live;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Op> m_ops;
    bool m_stopping = false;
    std::thread m_worker;
};

} // namespace parley

Q_DECLARE_METATYPE(parley::OutboxJournal::Record)
