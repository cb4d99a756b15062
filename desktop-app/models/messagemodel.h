// MessageModel: the timeline of one room, as a flat list model for a QListView.
#pragma once

#include "models/timelineentry.h"

#include <QAbstractListModel>
#include <QList>
#include <optional>
#include <parley/message.h>

namespace parley::desktop {

//! The messages of one room in display order. It only translates what the SDK reports (messages,
//! history pages, acks, failures, gaps) into row insertions, moves and changes; it does no I/O.
//!
//! Layout of the rows: first the settled rows (messages the server stored, and gap notices)
//! in seq order with no duplicate seq; after them the unsettled rows (own messages still pending
//! or failed) in send order. A pending message settles when its ack or its echo from the server
//! arrives, whichever comes first; the other one then only completes the row.
//!
//! Roles that depend on the previous row (grouping, day separators) are recomputed for the row
//! after every insertion or removal, with dataChanged().
class MessageModel : public QAbstractListModel {
    Q_OBJECT

public:
    enum Role {
        KindRole = Qt::UserRole + 1, //!< TimelineEntry::Kind as int
        DeliveryRole, //!< TimelineEntry::Delivery as int
        SenderRole, //!< QString
        BodyRole, //!< QString (also Qt::DisplayRole)
        TimestampRole, //!< QDateTime, UTC
        SeqRole, //!< quint64, 0 while pending
        ClientIdRole, //!< QString, own messages only
        FailureRole, //!< QString, why a message failed
        GapFromRole, //!< quint64
        GapToRole, //!< quint64
        IsOwnRole, //!< bool: sent by the local user
        //! bool: same sender as the previous message, same day, within a few minutes: the view
        //! draws no sender header for it.
        GroupedWithPreviousRole,
        //! bool: first row of a local calendar day: the view draws a day separator above it.
        StartsDayRole,
        //! QString: identifies what the row looks like (TimelineEntry::contentId, delivery,
        //! grouping, day separator), for layout caches: changes whenever one of them does, and
        //! never equals the key of another row, in this model or any other.
        CacheKeyRole,
    };
    Q_ENUM(Role)

    //! Messages closer together than this from one sender are grouped under one header.
    static constexpr qint64 GroupingWindowSecs = 5 * 60;

    MessageModel(const QString& room, const QString& localUser, QObject* parent = nullptr);

    QString room() const { return m_room; }

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    //! The row at `row`; `row` must be valid.
    const TimelineEntry& entry(int row) const { return m_rows.at(row); }

    //! Adds messages of this room (live or a history page, any order). Already present seqs are
    //! updated in place; a message carrying the client id of an unsettled row settles that row.
    void addMessages(const QList<parley::Message>& messages);
    //! Adds an own message just handed to Client::send(), shown as pending at the end.
    void addPending(const QString& clientId, const QString& body, const QDateTime& sentAt);
    //! The server stored the message `clientId` as `seq`: it becomes confirmed and takes its
    //! place among the settled rows. Unknown ids are ignored (e.g. after a discard).
    void markAcked(const QString& clientId, quint64 seq);
    //! The message `clientId` will not be stored: it shows as failed, with `reason`.
    void markFailed(const QString& clientId, const QString& reason);
    //! A failed message was sent again under `newClientId`: pending again.
    void markRetried(const QString& oldClientId, const QString& newClientId);
    //! Removes an unsettled (pending or failed) row; false when there is none for `clientId`.
    bool removeUnsettled(const QString& clientId);
    //! Adds a notice that messages `fromSeq`..`toSeq` could not be delivered.
    void addGap(quint64 fromSeq, quint64 toSeq);
    //! Drops every settled row (the room's stream was reset); unsettled rows stay.
    void clearSettled();

    //! The row of the unsettled message `clientId`, or -1.
    int rowOfClientId(const QString& clientId) const;
    //! The seq of the oldest stored message shown, if any.
    std::optional<quint64> oldestSeq() const;
    //! The seq of the newest stored message shown, if any.
    std::optional<quint64> newestSeq() const;
    //! Number of settled rows (stored messages and gap notices).
    int settledCount() const { return m_settled; }

private:
    //! Index of the first settled row whose key is >= `key` (gaps before messages on ties).
    int lowerBound(quint64 key, TimelineEntry::Kind kind) const;
    //! Inserts or updates one settled row.
    void insertSettled(TimelineEntry entry);
    //! The settled rows of `entries` are all new and sorted, and go as one block at `row`.
    void insertBlock(int row, const QList<TimelineEntry>& entries);
    void removeRowAt(int row);
    //! Neighbour-dependent roles of `row` may have changed.
    void refreshNeighbourRoles(int row);
    bool groupedWithPrevious(int row) const;
    bool startsDay(int row) const;
    TimelineEntry fromMessage(const parley::Message& message) const;
    //! A TimelineEntry::contentId no row has had yet.
    static quint64 nextContentId();

    QString m_room;
    QString m_localUser;
    QList<TimelineEntry> m_rows;
    int m_settled = 0;
};

} // namespace parley::desktop
