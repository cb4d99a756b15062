#include "models/messagemodel.h"

#include <QLocale>
#include <QSet>
#include <algorithm>
#include <atomic>

namespace parley::desktop {

MessageModel::MessageModel(const QString& room, const QString& localUser, QObject* parent)
    : QAbstractListModel(parent)
    , m_room(room)
    , m_localUser(localUser)
{
}

int MessageModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant MessageModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    const int row = index.row();
    const TimelineEntry& e = m_rows.at(row);
    switch (role) {
    case Qt::DisplayRole:
    case BodyRole:
        return e.body;
    case Qt::ToolTipRole:
        return e.timestamp.isValid()
            ? QLocale().toString(e.timestamp.toLocalTime(), QLocale::LongFormat)
            : QVariant();
    case Qt::AccessibleTextRole:
        return e.kind == TimelineEntry::Kind::Gap
            ? tr("Messages %1 to %2 could not be loaded").arg(e.gapFrom).arg(e.gapTo)
            : tr("%1: %2").arg(e.sender, e.body);
    case KindRole:
        return int(e.kind);
    case DeliveryRole:
        return int(e.delivery);
    case SenderRole:
        return e.sender;
    case TimestampRole:
        return e.timestamp;
    case SeqRole:
        return e.seq;
    case ClientIdRole:
        return e.clientId;
    case FailureRole:
        return e.failure;
    case GapFromRole:
        return e.gapFrom;
    case GapToRole:
        return e.gapTo;
    case IsOwnRole:
        return e.kind == TimelineEntry::Kind::Message && e.sender == m_localUser;
    case GroupedWithPreviousRole:
        return groupedWithPrevious(row);
    case StartsDayRole:
        return startsDay(row);
    case CacheKeyRole:
        // Not the seq: rows of different rooms (and epochs) share seqs, and one delegate with its
        // caches serves the model of every room the view switches to.
        return QStringLiteral("%1:%2:%3%4")
            .arg(e.contentId)
            .arg(int(e.delivery))
            .arg(groupedWithPrevious(row) ? 'g' : '-')
            .arg(startsDay(row) ? 'd' : '-');
    default:
        return {};
    }
}

QHash<int, QByteArray> MessageModel::roleNames() const
{
    auto names = QAbstractListModel::roleNames();
    names.insert({ { KindRole, "kind" }, { DeliveryRole, "delivery" }, { SenderRole, "sender" },
        { BodyRole, "body" }, { TimestampRole, "timestamp" }, { SeqRole, "seq" },
        { ClientIdRole, "clientId" }, { FailureRole, "failure" }, { GapFromRole, "gapFrom" },
        { GapToRole, "gapTo" }, { IsOwnRole, "isOwn" },
        { GroupedWithPreviousRole, "groupedWithPrevious" }, { StartsDayRole, "startsDay" },
        { CacheKeyRole, "cacheKey" } });
    return names;
}

quint64 MessageModel::nextContentId()
{
    // Process-wide rather than per model: a model can be deleted (a room closed) and another
    // created, possibly at the same address, while a view's caches still hold the old keys.
    static std::atomic<quint64> last { 0 };
    return ++last;
}

TimelineEntry MessageModel::fromMessage(const parley::Message& message) const
{
    TimelineEntry e;
    e.kind = TimelineEntry::Kind::Message;
    e.contentId = nextContentId();
    e.delivery = TimelineEntry::Delivery::Confirmed;
    e.seq = message.seq;
    e.messageId = message.id;
    e.clientId = message.clientId;
    e.sender = message.sender;
    e.body = message.body;
    e.timestamp = message.timestamp;
    return e;
}

void MessageModel::addMessages(const QList<parley::Message>& messages)
{
    QList<TimelineEntry> entries;
    entries.reserve(messages.size());
    bool settlesOwn = false;
    for (const auto& message : messages) {
        if (message.room != m_room || message.seq == 0) {
            continue;
        }
        if (!message.clientId.isEmpty() && rowOfClientId(message.clientId) >= 0) {
            settlesOwn = true;
        }
        entries.append(fromMessage(message));
    }
    if (entries.isEmpty()) {
        return;
    }
    std::sort(entries.begin(), entries.end(),
        [](const TimelineEntry& a, const TimelineEntry& b) { return a.seq < b.seq; });
    entries.erase(
        std::unique(entries.begin(), entries.end(),
            [](const TimelineEntry& a, const TimelineEntry& b) { return a.seq == b.seq; }),
        entries.end());

    // The common cases, a history page older than everything shown or a run of new messages,
    // go in as one block so the view lays out once.
    if (!settlesOwn) {
        if (m_settled == 0 || entries.last().seq < m_rows.first().sortKey()) {
            insertBlock(0, entries);
            return;
        }
        if (entries.first().seq > m_rows.at(m_settled - 1).sortKey()) {
            insertBlock(m_settled, entries);
            return;
        }
    }
    for (auto& entry : entries) {
        if (!entry.clientId.isEmpty()) {
            const int own = rowOfClientId(entry.clientId);
            if (own >= 0) {
                removeRowAt(own);
            }
        }
        insertSettled(std::move(entry));
    }
}

void MessageModel::addPending(const QString& clientId, const QString& body, const QDateTime& sentAt)
{
    TimelineEntry e;
    e.kind = TimelineEntry::Kind::Message;
    e.contentId = nextContentId();
    e.delivery = TimelineEntry::Delivery::Pending;
    e.clientId = clientId;
    e.sender = m_localUser;
    e.body = body;
    e.timestamp = sentAt.toUTC();
    const int row = int(m_rows.size());
    beginInsertRows(QModelIndex(), row, row);
    m_rows.append(std::move(e));
    endInsertRows();
}

void MessageModel::markAcked(const QString& clientId, quint64 seq)
{
    const int row = rowOfClientId(clientId);
    if (row < 0 || seq == 0) {
        return;
    }
    TimelineEntry e = m_rows.at(row);
    e.seq = seq;
    e.delivery = TimelineEntry::Delivery::Confirmed;
    e.failure.clear();
    // Usually the acked message is the first unsettled one and newer than every settled row:
    // it settles where it stands.
    if (row == m_settled && (m_settled == 0 || m_rows.at(m_settled - 1).sortKey() < seq)) {
        m_rows[row] = std::move(e);
        ++m_settled;
        const QModelIndex idx = index(row);
        Q_EMIT dataChanged(idx, idx);
        return;
    }
    removeRowAt(row);
    insertSettled(std::move(e));
}

void MessageModel::markFailed(const QString& clientId, const QString& reason)
{
    const int row = rowOfClientId(clientId);
    if (row < 0) {
        return;
    }
    m_rows[row].delivery = TimelineEntry::Delivery::Failed;
    m_rows[row].failure = reason;
    const QModelIndex idx = index(row);
    Q_EMIT dataChanged(idx, idx, { DeliveryRole, FailureRole, CacheKeyRole });
}

void MessageModel::markRetried(const QString& oldClientId, const QString& newClientId)
{
    const int row = rowOfClientId(oldClientId);
    if (row < 0) {
        return;
    }
    TimelineEntry e = m_rows.at(row);
    e.clientId = newClientId;
    e.delivery = TimelineEntry::Delivery::Pending;
    e.failure.clear();
    const int last = int(m_rows.size()) - 1;
    if (row == last) {
        m_rows[row] = std::move(e);
        const QModelIndex idx = index(row);
        Q_EMIT dataChanged(idx, idx);
        return;
    }
    // The outbox sends in send() order: the retried message now goes after the others.
    beginMoveRows(QModelIndex(), row, row, QModelIndex(), last + 1);
    m_rows.removeAt(row);
    m_rows.append(std::move(e));
    endMoveRows();
    refreshNeighbourRoles(row);
    refreshNeighbourRoles(last);
}

bool MessageModel::removeUnsettled(const QString& clientId)
{
    const int row = rowOfClientId(clientId);
    if (row < 0) {
        return false;
    }
    removeRowAt(row);
    return true;
}

void MessageModel::addGap(quint64 fromSeq, quint64 toSeq)
{
    if (fromSeq == 0 || toSeq < fromSeq) {
        return;
    }
    TimelineEntry e;
    e.kind = TimelineEntry::Kind::Gap;
    e.contentId = nextContentId();
    e.gapFrom = fromSeq;
    e.gapTo = toSeq;
    insertSettled(std::move(e));
}

void MessageModel::clearSettled()
{
    if (m_settled == 0) {
        return;
    }
    beginRemoveRows(QModelIndex(), 0, m_settled - 1);
    m_rows.remove(0, m_settled);
    m_settled = 0;
    endRemoveRows();
    refreshNeighbourRoles(0);
}

int MessageModel::rowOfClientId(const QString& clientId) const
{
    if (clientId.isEmpty()) {
        return -1;
    }
    for (int row = m_settled; row < int(m_rows.size()); ++row) {
        if (m_rows.at(row).clientId == clientId) {
            return row;
        }
    }
    return -1;
}

std::optional<quint64> MessageModel::oldestSeq() const
{
    for (int row = 0; row < m_settled; ++row) {
        if (m_rows.at(row).kind == TimelineEntry::Kind::Message) {
            return m_rows.at(row).seq;
        }
    }
    return std::nullopt;
}

std::optional<quint64> MessageModel::newestSeq() const
{
    for (int row = m_settled - 1; row >= 0; --row) {
        if (m_rows.at(row).kind == TimelineEntry::Kind::Message) {
            return m_rows.at(row).seq;
        }
    }
    return std::nullopt;
}

int MessageModel::lowerBound(quint64 key, TimelineEntry::Kind kind) const
{
    const auto begin = m_rows.cbegin();
    const auto it = std::lower_bound(begin, begin + m_settled, std::pair { key, kind },
        [](const TimelineEntry& e, const std::pair<quint64, TimelineEntry::Kind>& k) {
            if (e.sortKey() != k.first) {
                return e.sortKey() < k.first;
            }
            // On equal keys a gap notice sorts before a message.
            return e.kind == TimelineEntry::Kind::Gap && k.second == TimelineEntry::Kind::Message;
        });
    return int(it - begin);
}

void MessageModel::insertSettled(TimelineEntry entry)
{
    const int row = lowerBound(entry.sortKey(), entry.kind);
    if (row < m_settled && m_rows.at(row).kind == entry.kind
        && m_rows.at(row).sortKey() == entry.sortKey()) {
        // Already shown (a history page overlapping live messages, or the echo of an own
        // message after its ack): complete the row with what the server says.
        TimelineEntry& existing = m_rows[row];
        if (entry.kind == TimelineEntry::Kind::Message) {
            if (entry.messageId.isEmpty()) {
                return;
            }
            // The same text lays out the same: keep what caches know of it.
            if (entry.body == existing.body) {
                entry.contentId = existing.contentId;
            }
            existing = std::move(entry);
        } else if (entry.gapTo > existing.gapTo) {
            existing.gapTo = entry.gapTo;
            existing.contentId = entry.contentId; // the notice says another range
        }
        const QModelIndex idx = index(row);
        Q_EMIT dataChanged(idx, idx);
        refreshNeighbourRoles(row + 1);
        return;
    }
    beginInsertRows(QModelIndex(), row, row);
    m_rows.insert(row, std::move(entry));
    ++m_settled;
    endInsertRows();
    refreshNeighbourRoles(row + 1);
}

void MessageModel::insertBlock(int row, const QList<TimelineEntry>& entries)
{
    const int count = int(entries.size());
    beginInsertRows(QModelIndex(), row, row + count - 1);
    m_rows.insert(row, count, TimelineEntry {});
    std::copy(entries.cbegin(), entries.cend(), m_rows.begin() + row);
    m_settled += count;
    endInsertRows();
    refreshNeighbourRoles(row + count);
}

void MessageModel::removeRowAt(int row)
{
    beginRemoveRows(QModelIndex(), row, row);
    m_rows.removeAt(row);
    if (row < m_settled) {
        --m_settled;
    }
    endRemoveRows();
    refreshNeighbourRoles(row);
}

void MessageModel::refreshNeighbourRoles(int row)
{
    if (row < 0 || row >= int(m_rows.size())) {
        return;
    }
    const QModelIndex idx = index(row);
    Q_EMIT dataChanged(idx, idx, { GroupedWithPreviousRole, StartsDayRole, CacheKeyRole });
}

bool MessageModel::groupedWithPrevious(int row) const
{
    if (row <= 0 || startsDay(row)) {
        return false;
    }
    const TimelineEntry& e = m_rows.at(row);
    const TimelineEntry& prev = m_rows.at(row - 1);
    if (e.kind != TimelineEntry::Kind::Message || prev.kind != TimelineEntry::Kind::Message) {
        return false;
    }
    if (e.sender != prev.sender || !e.timestamp.isValid() || !prev.timestamp.isValid()) {
        return false;
    }
    return std::abs(prev.timestamp.secsTo(e.timestamp)) <= GroupingWindowSecs;
}

bool MessageModel::startsDay(int row) const
{
    const TimelineEntry& e = m_rows.at(row);
    if (e.kind != TimelineEntry::Kind::Message || !e.timestamp.isValid()) {
        return false;
    }
    for (int prev = row - 1; prev >= 0; --prev) {
        const TimelineEntry& p = m_rows.at(prev);
        if (p.kind == TimelineEntry::Kind::Message && p.timestamp.isValid()) {
            return p.timestamp.toLocalTime().date() != e.timestamp.toLocalTime().date();
        }
    }
    return true;
}

} // namespace parley::desktop
