#include "outboxjournal.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <algorithm>

namespace parley {

OutboxJournal::OutboxJournal(QString path, int maxQueued, QObject* parent)
    : QObject(parent)
    , m_path(std::move(path))
    , m_maxQueued(std::max(2, maxQueued))
    , m_worker([this] { run(); })
{
}

OutboxJournal::~OutboxJournal()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_one();
    m_worker.join();
}

void OutboxJournal::load()
{
    Op op;
    op.kind = Op::Kind::Load;
    enqueue(std::move(op));
}

quint64 OutboxJournal::append(const QString& clientId, const QString& room, const QString& body)
{
    Op op;
    op.kind = Op::Kind::Add;
    op.serial = ++m_serial;
    op.record = Record { clientId, room, body };
    m_live.append(op.record);
    enqueue(std::move(op));
    return m_serial;
}

void OutboxJournal::remove(const QString& clientId)
{
    const auto it = std::find_if(
        m_live.begin(), m_live.end(), [&](const Record& r) { return r.clientId == clientId; });
    if (it == m_live.end()) {
        return;
    }
    m_live.erase(it);
    Op op;
    op.kind = Op::Kind::Del;
    op.serial = ++m_serial;
    op.record.clientId = clientId;
    enqueue(std::move(op));
}

int OutboxJournal::queued() const
{
    std::lock_guard lock(m_mutex);
    return int(m_ops.size());
}

void OutboxJournal::enqueue(Op op)
{
    {
        std::lock_guard lock(m_mutex);
        const bool hasLoad = !m_ops.empty() && m_ops.front().kind == Op::Kind::Load;
        if (int(m_ops.size()) >= m_maxQueued && op.kind != Op::Kind::Load) {
            // Slow disk: collapse everything waiting into one snapshot of the live records.
            Op snapshot;
            snapshot.kind = Op::Kind::Snapshot;
            snapshot.serial = op.serial;
            snapshot.snapshot = m_live;
            m_ops.clear();
            if (hasLoad) {
                Op load;
                load.kind = Op::Kind::Load;
                m_ops.push_back(std::move(load));
            }
            m_ops.push_back(std::move(snapshot));
        } else {
            m_ops.push_back(std::move(op));
        }
    }
    m_wake.notify_one();
}

QList<OutboxJournal::Record> OutboxJournal::readFile(QString* error) const
{
    QList<Record> records;
    QFile file(m_path);
    if (!file.exists()) {
        return records;
    }
    if (!file.open(QIODevice::ReadOnly)) {
        *error = file.errorString();
        return records;
    }
    while (!file.atEnd()) {
        const QByteArray line = file.readLine();
        const QJsonObject o = QJsonDocument::fromJson(line).object();
        const QString op = o.value(QStringLiteral("op")).toString();
        const QString id = o.value(QStringLiteral("id")).toString();
        if (op == QLatin1String("add") && !id.isEmpty()) {
            records.append(Record { id, o.value(QStringLiteral("room")).toString(),
                o.value(QStringLiteral("body")).toString() });
        } else if (op == QLatin1String("del")) {
            records.removeIf([&](const Record& r) { return r.clientId == id; });
        }
        // Anything else (a torn last line) is skipped.
    }
    return records;
}

bool OutboxJournal::writeAll(const QList<Record>& records, QString* error) const
{
    QSaveFile file(m_path);
    if (!file.open(QIODevice::WriteOnly)) {
        *error = file.errorString();
        return false;
    }
    for (const Record& r : records) {
        const QJsonObject o { { QStringLiteral("op"), QStringLiteral("add") },
            { QStringLiteral("id"), r.clientId }, { QStringLiteral("room"), r.room },
            { QStringLiteral("body"), r.body } };
        file.write(QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n');
    }
    if (!file.commit()) {
        *error = file.errorString();
        return false;
    }
    return true;
}

void OutboxJournal::run()
{
    QFile log(m_path);
    for (;;) {
        std::deque<Op> batch;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stopping || !m_ops.empty(); });
            if (m_ops.empty() && m_stopping) {
                return;
            }
            batch.swap(m_ops);
        }
        QString error;
        quint64 done = 0;
        for (Op& op : batch) {
            switch (op.kind) {
            case Op::Kind::Load: {
                log.close();
                QList<Record> records = readFile(&error);
                // Compact to the live records; appends continue after them.
                if (error.isEmpty()) {
                    writeAll(records, &error);
                }
                QMetaObject::invokeMethod(
                    this,
                    [this, records] {
                        m_live = records + m_live;
                        Q_EMIT loaded(records);
                    },
                    Qt::QueuedConnection);
                break;
            }
            case Op::Kind::Snapshot:
                log.close();
                writeAll(op.snapshot, &error);
                done = op.serial;
                break;
            case Op::Kind::Add:
            case Op::Kind::Del: {
                if (!log.isOpen() && !log.open(QIODevice::WriteOnly | QIODevice::Append)) {
                    error = log.errorString();
                    break;
                }
                QJsonObject o { { QStringLiteral("op"),
                                    op.kind == Op::Kind::Add ? QStringLiteral("add")
                                                             : QStringLiteral("del") },
                    { QStringLiteral("id"), op.record.clientId } };
                if (op.kind == Op::Kind::Add) {
                    o.insert(QStringLiteral("room"), op.record.room);
                    o.insert(QStringLiteral("body"), op.record.body);
                }
                log.write(QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n');
                done = op.serial;
                break;
            }
            }
        }
        if (log.isOpen() && !log.flush()) {
            error = log.errorString();
        }
        if (!error.isEmpty()) {
            QMetaObject::invokeMethod(
                this, [this, error] { Q_EMIT failed(error); }, Qt::QueuedConnection);
        }
        if (done > 0) {
            // Reported even after an error: the in-memory outbox must not stall on a bad disk.
            QMetaObject::invokeMethod(
                this, [this, done] { Q_EMIT persisted(done); }, Qt::QueuedConnection);
        }
    }
}

} // namespace parley
